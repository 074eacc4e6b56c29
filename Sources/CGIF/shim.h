// giflib (Debian's libgif-dev): its API reports errors by return codes, with no setjmp.
#include <gif_lib.h>
