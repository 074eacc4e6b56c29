// safetensors: byte-exact agreement with the reference Python package, round trips, and a clear error for
// each kind of malformed file.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

/// Bytes from a hexadecimal string.
private func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// A safetensors file assembled by hand from a header text and raw data (the header padded as the format says).
private func handMade(_ header: String, data: [UInt8], pad: Bool = true, declaredLength: UInt64? = nil) -> [UInt8] {
    var headerBytes = Array(header.utf8)
    if pad { headerBytes += repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8) }
    let length = declaredLength ?? UInt64(headerBytes.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: length >> ($0 * 8)) } + headerBytes + data
}

private func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> ($0 * 8)) } }
}

@Suite struct SafeTensorsTests {
    // Test vectors made by the reference implementation (Python safetensors 0.8.0, numpy):
    //
    //   import numpy as np
    //   from safetensors.numpy import save
    //   a = save({"layer1.weight": (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1),
    //             "layer1.bias": np.array([1.5, -2.0], dtype=np.float32),
    //             "B": np.array(3.0, dtype=np.float32)},
    //            metadata={"note": "a \"quoted\"\nline \u00e9\t\u0001"})
    //   b = save({"empty": np.zeros((0, 3), dtype=np.float32), "x": np.array([[0.1], [-0.0]], dtype=np.float32)})
    //   c = save({})
    //   print(a.hex(), b.hex(), c.hex())
    static let vectorA = hexBytes(
        "f8000000000000007b225f5f6d657461646174615f5f223a7b226e6f7465223a2261205c2271756f7465645c225c6e6c696e65"
            + "20c3a95c745c7530303031227d2c2242223a7b226474797065223a22463332222c227368617065223a5b5d2c2264617461"
            + "5f6f666673657473223a5b302c345d7d2c226c61796572312e62696173223a7b226474797065223a22463332222c227368"
            + "617065223a5b325d2c22646174615f6f666673657473223a5b342c31325d7d2c226c61796572312e776569676874223a7b"
            + "226474797065223a22463332222c227368617065223a5b322c335d2c22646174615f6f666673657473223a5b31322c3336"
            + "5d7d7d202020202020000040400000c03f000000c0000080bf000000bf000000000000003f0000803f0000c03f")
    static let vectorB = hexBytes(
        "78000000000000007b22656d707479223a7b226474797065223a22463332222c227368617065223a5b302c335d2c22646174"
            + "615f6f666673657473223a5b302c305d7d2c2278223a7b226474797065223a22463332222c227368617065223a5b322c31"
            + "5d2c22646174615f6f666673657473223a5b302c385d7d7d2020202020cdcccc3d00000080")
    static let vectorC = hexBytes("08000000000000007b7d202020202020")

    static let contentsA = SafeTensors(
        tensors: [
            .init(name: "layer1.weight", shape: [2, 3], values: [-1, -0.5, 0, 0.5, 1, 1.5]),
            .init(name: "layer1.bias", shape: [2], values: [1.5, -2]),
            .init(name: "B", shape: [], values: [3]),
        ],
        metadata: ["note": "a \"quoted\"\nline \u{e9}\t\u{1}"])
    static let contentsB = SafeTensors(tensors: [
        .init(name: "x", shape: [2, 1], values: [0.1, -0.0]),
        .init(name: "empty", shape: [0, 3], values: []),
    ])

    @Test func encodingMatchesThePythonPackageByteForByte() throws {
        #expect(try Self.contentsA.encoded() == Self.vectorA)
        #expect(try Self.contentsB.encoded() == Self.vectorB)
        #expect(try SafeTensors().encoded() == Self.vectorC)
    }

    @Test func decodingThePythonFilesGivesTheTensorsInFileOrder() throws {
        let a = try SafeTensors(bytes: Self.vectorA, path: "a.safetensors")
        #expect(a.tensors.map(\.name) == ["B", "layer1.bias", "layer1.weight"])
        #expect(a.metadata == Self.contentsA.metadata)
        #expect(a["layer1.weight"] == Self.contentsA["layer1.weight"])
        #expect(a["B"]?.shape == [])
        let b = try SafeTensors(bytes: Self.vectorB, path: "b.safetensors")
        #expect(b.tensors.map(\.name) == ["empty", "x"])
        #expect(b["x"]?.values.map(\.bitPattern) == [Float(0.1).bitPattern, Float(-0.0).bitPattern])
        #expect(try SafeTensors(bytes: Self.vectorC, path: "c.safetensors") == SafeTensors())
    }

    @Test func roundTripThroughAFileIsExactAndDeterministic() throws {
        let folder = try TemporaryFolder()
        var values = randomValues(7 * 5, seed: 11)
        values[3] = .infinity
        values[4] = -.leastNonzeroMagnitude
        let contents = SafeTensors(
            tensors: [
                .init(name: "w", shape: [7, 5], values: values), .init(name: "b", shape: [5], values: [1, 2, 3, 4, 5]),
                .init(name: "ünïcode \"name\"", shape: [1, 1, 1], values: [42]),
            ],
            metadata: ["z": "last", "a": "first", "\u{1F600}": "emoji\\slash/"])
        let path = folder.path + "/model.safetensors"
        try contents.write(to: path)
        let back = try SafeTensors.read(path)
        #expect(back.metadata == contents.metadata)
        #expect(back.tensors.map(\.name) == ["b", "w", "ünïcode \"name\""])
        for tensor in contents.tensors {
            #expect(back[tensor.name]?.shape == tensor.shape)
            #expect(back[tensor.name]?.values.map(\.bitPattern) == tensor.values.map(\.bitPattern))
        }
        // Same contents in another order give identical bytes; the file is 8-byte aligned up to the data.
        let shuffled = SafeTensors(tensors: contents.tensors.reversed(), metadata: contents.metadata)
        let bytes = try contents.encoded()
        #expect(try shuffled.encoded() == bytes)
        #expect(try back.encoded() == bytes)
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect((8 + headerLength) % 8 == 0)
        #expect(bytes.count == 8 + headerLength + 4 * (35 + 5 + 1))
    }

    @Test func encodingRejectsInconsistentContents() {
        let cases: [(SafeTensors, String)] = [
            (SafeTensors(tensors: [.init(name: "w", shape: [2, 2], values: [1, 2, 3])]), "shape [2, 2] but 3 values"),
            (SafeTensors(tensors: [.init(name: "w", shape: [1], values: [1]), .init(name: "w", shape: [1], values: [2])]),
             "two tensors are called \"w\""),
            (SafeTensors(tensors: [.init(name: "__metadata__", shape: [1], values: [1])]), "__metadata__"),
            (SafeTensors(tensors: [.init(name: "n", shape: [-1], values: [])]), "negative dimension"),
        ]
        for (contents, expected) in cases {
            let error = #expect(throws: MLPError.self) { try contents.encoded() }
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
        }
    }

    @Test func writeNamesTheFileInErrors() throws {
        let folder = try TemporaryFolder()
        let bad = SafeTensors(tensors: [.init(name: "w", shape: [2], values: [1])])
        let error = #expect(throws: MLPError.self) { try bad.write(to: folder.path + "/bad.safetensors") }
        #expect(error?.message.contains("bad.safetensors") == true)
        #expect(folder.contents().isEmpty)
        let missing = #expect(throws: MLPError.self) { try SafeTensors.read(folder.path + "/nope.safetensors") }
        #expect(missing?.message.contains("nope.safetensors") == true)
    }

    @Test(requires(pythonTools != nil, "needs numpy ($MLP_PYTHON or .build-venv)"))
    func everyElementTypeReadsAsNumpyConvertsIt() throws {
        // numpy writes each type (every F16, I16, U16, I8 and U8 value; BF16, F64 and I32 values that round) and
        // the same values converted to float32; we must read the first as the second.
        let python = try #require(pythonTools, "no Python with numpy")
        let folder = try TemporaryFolder()
        let script = """
            import json, sys, numpy as np
            def save(path, arrays):
                header, data = {}, b""
                for name, (dtype, a) in arrays.items():
                    raw = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
                    header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [len(data), len(data) + len(raw)]}
                    data += raw
                text = json.dumps(header).encode()
                text += b" " * (-len(text) % 8)
                open(path, "wb").write(len(text).to_bytes(8, "little") + text + data)
            rng = np.random.default_rng(5)
            bf16 = rng.integers(0, 1 << 16, 4096, dtype=np.uint16)
            f64 = np.concatenate([rng.normal(0, 1e3, 4000), [1e300, -1e-300, 0.1, 2.0 ** -149, np.inf, -0.0]])
            i32 = np.concatenate([rng.integers(-(1 << 31), (1 << 31) - 1, 4000), [(1 << 24) + 1, -(1 << 31)]]).astype(np.int32)
            typed = {"f16": ("F16", np.arange(1 << 16, dtype=np.uint16).view(np.float16).reshape(256, 256)),
                     "bf16": ("BF16", bf16), "f64": ("F64", f64), "f32": ("F32", rng.normal(size=(3, 5)).astype(np.float32)),
                     "i32": ("I32", i32), "i16": ("I16", np.arange(-(1 << 15), 1 << 15, dtype=np.int16)),
                     "i8": ("I8", np.arange(-128, 128, dtype=np.int8)), "u16": ("U16", np.arange(1 << 16, dtype=np.uint16)),
                     "u8": ("U8", np.arange(256, dtype=np.uint8).reshape(16, 16))}
            save(sys.argv[1], typed)
            expected = {k: ("F32", (a.astype(np.uint32) << 16).view(np.float32) if k == "bf16" else a.astype(np.float32))
                        for k, (_, a) in typed.items()}
            save(sys.argv[2], expected)
            """
        let typedPath = folder.path + "/typed.safetensors", expectedPath = folder.path + "/expected.safetensors"
        let result = try runPython(python, ["-c", script, typedPath, expectedPath])
        #expect(result.status == 0, "\(result.err)")
        let typed = try SafeTensors.read(typedPath), expected = try SafeTensors.read(expectedPath)
        #expect(typed.tensors.map(\.name).sorted() == expected.tensors.map(\.name).sorted())
        #expect(typed.tensors.count == 9)
        for tensor in typed.tensors {
            let want = try #require(expected[tensor.name])
            #expect(tensor.shape == want.shape, "\(tensor.name)")
            // NaNs as NaNs (converters may quiet a signaling one); every other value bit for bit.
            let differ = zip(tensor.values, want.values).filter { a, b in
                a.isNaN != b.isNaN || (!a.isNaN && a.bitPattern != b.bitPattern)
            }
            #expect(differ.isEmpty && tensor.values.count == want.values.count,
                    "\(tensor.name): \(differ.count) values differ, first \(differ.first.map { "\($0)" } ?? "-")")
        }
    }

    @Test func malformedFilesGiveClearErrors() {
        let four = floatBytes([1, 2, 3, 4])
        let entry = { (name: String, shape: String, begin: Int, end: Int) in
            "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}"
        }
        let cases: [([UInt8], String)] = [
            ([1, 2, 3], "too few for the 8-byte header length"),
            (handMade("{}", data: [], declaredLength: 200_000_000), "over the 100000000-byte limit"),
            (handMade("{}", data: [], declaredLength: 64), "runs past the end of the file"),
            (handMade("[1,2]", data: []), "does not start with a JSON object"),
            (handMade("{\"a\":", data: []), "not valid JSON"),
            (handMade("{\"a\":{\"dtype\":\"F32\",}}", data: []), "not valid JSON"),
            (handMade("{" + entry("a", "1", 0, 4) + "," + entry("a", "1", 4, 8) + "}", data: floatBytes([1, 2])),
             "duplicate key"),
            (handMade("{\"w\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[0,2]}}", data: [0, 1]),
             "dtype BOOL; the types read are F64, F32, F16, BF16, I32, I16, I8, U16, U8"),
            (handMade("{\"w\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,4]}}", data: [1, 2, 3, 4]),
             "shape [3] needs 3 U8 values, but data_offsets [0, 4] cover 4 bytes (4.0 values)"),
            (handMade("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,3]}}", data: [0, 0, 60]),
             "needs 2 F16 values"),
            (handMade("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}", data: four), "no \"shape\" field"),
            (handMade("{\"w\":{\"shape\":[4],\"data_offsets\":[0,16]}}", data: four), "no \"dtype\" field"),
            (handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[4]}}", data: four), "no \"data_offsets\" field"),
            (handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,16]}}", data: four),
             "not a list of non-negative integers"),
            (handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0]}}", data: four),
             "not a pair of non-negative integers"),
            (handMade("{" + entry("w", "3", 0, 16) + "}", data: four), "shape [3] needs 3 F32 values"),
            (handMade("{" + entry("w", "2,3", 0, 16) + "}", data: four), "cover 16 bytes"),
            (handMade("{" + entry("w", "4", 0, 32) + "}", data: four), "out of range"),
            (handMade("{" + entry("w", "4", 0, 16) + "}", data: four + [0, 0, 0, 0]),
             "the tensors cover 16 bytes but the data section has 20"),
            (handMade("{" + entry("a", "2", 0, 8) + "," + entry("b", "2", 4, 12) + "}", data: four), "overlapping"),
            (handMade("{" + entry("a", "1", 0, 4) + "," + entry("b", "2", 8, 16) + "}", data: four), "leaving a gap"),
            (handMade("{" + entry("a", "1", 4, 8) + "}", data: four + [0, 0, 0, 0]), "leaving a gap"),
            (handMade("{\"__metadata__\":{\"k\":1}}", data: []), "metadata entry \"k\" is not a string"),
            (handMade("{\"w\":[1]}", data: []), "tensor \"w\" is not a JSON object"),
            (handMade(String(repeating: "[", count: 200), data: []), "does not start with a JSON object"),
            (handMade("{\"a\":" + String(repeating: "[", count: 200) + "}", data: []), "nested too deeply"),
            (Array(handMade("{}", data: []).prefix(8)) + [0xFF, 0xFE] + Array(repeating: 0x20, count: 6),
             "not valid UTF-8"),
        ]
        for (bytes, expected) in cases {
            let error = #expect(throws: MLPError.self) { try SafeTensors(bytes: bytes, path: "bad.safetensors") }
            let message = error?.message ?? ""
            #expect(message.contains(expected), "expected “\(expected)” in: \(message)")
            #expect(message.hasPrefix("bad.safetensors is not a valid safetensors file: "), "\(message)")
        }
    }

    @Test func acceptsWhatOtherWritersMayDo() throws {
        // Unpadded header, whitespace, escaped names, extra fields, and a header order unlike the data order.
        let header = " {\"b\" : {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8], \"extra\": null},\n"
            + "\"\\u0061\":{\"data_offsets\":[0,4],\"shape\":[1],\"dtype\":\"F32\"}}"
        let bytes = handMade(header, data: floatBytes([1, 2]), pad: false)
        // A header that starts with a space is not accepted (the reference requires '{' first), so trim it.
        #expect(throws: MLPError.self) { try SafeTensors(bytes: bytes, path: "x") }
        let trimmed = handMade(String(header.dropFirst()), data: floatBytes([1, 2]), pad: false)
        let file = try SafeTensors(bytes: trimmed, path: "x")
        #expect(file.tensors.map(\.name) == ["a", "b"])
        #expect(file["a"]?.values == [1])
        #expect(file["b"]?.values == [2])
    }
}
