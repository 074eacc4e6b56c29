// libpng's simplified API (png_image_*) is the only part used: it keeps setjmp/longjmp inside libpng.
#include <png.h>
