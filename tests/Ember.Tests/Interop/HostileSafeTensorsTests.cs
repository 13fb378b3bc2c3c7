using System.Text;
using Ember.Interop;

namespace Ember.Tests.Interop;

/// <summary>
/// Damaged and hostile safetensors files, generated here: each must be refused with an <see cref="InvalidDataException"/>
/// (or <see cref="FileNotFoundException"/>) naming the file and the problem, quickly and without allocating what the
/// header claims.
/// </summary>
public class HostileSafeTensorsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ember-hostile-st-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";
    const string B = "\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[16,24]}";

    static byte[] File(string header, int dataBytes) => HostileFile.SafeTensorsBytes(header, new byte[dataBytes]);
    static byte[] One(string entry, int dataBytes) => File("{\"t\":" + entry + "}", dataBytes);
    static string Entry(string dtype, string shape, string offsets) => $"{{\"dtype\":{dtype},\"shape\":{shape},\"data_offsets\":{offsets}}}";

    static byte[] WithLength(ulong declared, int actualHeader, int total)
    {
        var bytes = new byte[total];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, declared);
        for (int i = 8; i < Math.Min(total, 8 + actualHeader); i++) bytes[i] = (byte)' ';
        return bytes;
    }

    /// <summary>Case name → (file bytes, the problem the message must state).</summary>
    static readonly Dictionary<string, (Func<byte[]> Bytes, string Problem)> Cases = new()
    {
        // the 8-byte length and the header's size
        ["empty-file"] = (() => [], "shorter than the 8-byte header length"),
        ["seven-bytes"] = (() => new byte[7], "shorter than the 8-byte header length"),
        ["length-u64-max"] = (() => WithLength(ulong.MaxValue, 8, 64), "above the 100000000-byte limit"),
        ["length-above-cap"] = (() => WithLength(100_000_001, 8, 64), "above the 100000000-byte limit"),
        ["length-2^63"] = (() => WithLength(1UL << 63, 8, 64), "above the 100000000-byte limit"),
        ["length-beyond-file"] = (() => WithLength(1000, 56, 64), "exceeds the file size"),
        ["length-one-beyond-file"] = (() => WithLength(57, 56, 64), "exceeds the file size"),
        ["length-zero"] = (() => WithLength(0, 0, 8), "too short for a JSON object"),
        ["length-one"] = (() => HostileFile.SafeTensorsBytes("{", []), "too short for a JSON object"),
        ["truncated-in-header"] = (() => File("{" + A + "," + B + "}", 24)[..40], "exceeds the file size"),
        // the header's JSON
        ["header-not-json"] = (() => File("not json", 0), "header is not valid JSON"),
        ["header-unclosed"] = (() => File("{\"a\":{", 0), "header is not valid JSON"),
        ["header-trailing-garbage"] = (() => File("{} x", 0), "header is not valid JSON"),
        ["header-array"] = (() => File("[]", 0), "header must be a JSON object"),
        ["header-string"] = (() => File("\"x\"", 0), "header must be a JSON object"),
        ["header-number"] = (() => File("42", 0), "header must be a JSON object"),
        ["header-null"] = (() => File("null", 0), "header must be a JSON object"),
        ["header-invalid-utf8"] = (() => HostileFile.SafeTensorsBytes(new byte[] { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}' }, []), "not valid"),
        ["header-nested-100k"] = (() => File(new string('[', 100_000) + new string(']', 100_000), 0), "header is not valid JSON"),
        ["header-nested-objects"] = (() => File(string.Concat(Enumerable.Repeat("{\"a\":", 50)) + "1" + new string('}', 50), 0), "header is not valid JSON"),
        ["header-nul-bytes"] = (() => HostileFile.SafeTensorsBytes(new byte[16], []), "header is not valid JSON"),
        // names
        ["duplicate-tensor-name"] = (() => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16), "names 'a' twice"),
        ["duplicate-metadata"] = (() => File("{\"__metadata__\":{},\"__metadata__\":{}}", 0), "names '__metadata__' twice"),
        ["duplicate-metadata-key"] = (() => File("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0), "metadata key 'k' appears twice"),
        ["metadata-not-object"] = (() => File("{\"__metadata__\":[1]}", 0), "'__metadata__' must be an object of strings"),
        ["metadata-value-number"] = (() => File("{\"__metadata__\":{\"k\":1}}", 0), "metadata value 'k' must be a string"),
        ["metadata-shaped-like-tensor"] = (() => File("{\"__metadata__\":" + Entry("\"F32\"", "[1]", "[0,4]") + "}", 4), "metadata value 'shape' must be a string"),
        // entries
        ["entry-number"] = (() => One("1", 0), "tensor 't' needs dtype, shape and data_offsets"),
        ["entry-array"] = (() => One("[]", 0), "tensor 't' needs dtype, shape and data_offsets"),
        ["entry-no-dtype"] = (() => One("{\"shape\":[1],\"data_offsets\":[0,4]}", 4), "needs dtype, shape and data_offsets"),
        ["entry-no-shape"] = (() => One("{\"dtype\":\"F32\",\"data_offsets\":[0,4]}", 4), "needs dtype, shape and data_offsets"),
        ["entry-no-offsets"] = (() => One("{\"dtype\":\"F32\",\"shape\":[1]}", 4), "needs dtype, shape and data_offsets"),
        // dtypes
        ["dtype-number"] = (() => One(Entry("3", "[1]", "[0,4]"), 4), "dtype that is not a string"),
        ["dtype-null"] = (() => One(Entry("null", "[1]", "[0,4]"), 4), "dtype that is not a string"),
        ["dtype-unknown"] = (() => One(Entry("\"F8_E4M3\"", "[1]", "[0,1]"), 1), "which Ember does not read"),
        ["dtype-lower-case"] = (() => One(Entry("\"f32\"", "[1]", "[0,4]"), 4), "has dtype 'f32'"),
        ["dtype-empty"] = (() => One(Entry("\"\"", "[1]", "[0,4]"), 4), "has dtype ''"),
        ["dtype-padded"] = (() => One(Entry("\" F32\"", "[1]", "[0,4]"), 4), "has dtype ' F32'"),
        ["dtype-complex"] = (() => One(Entry("\"C64\"", "[1]", "[0,8]"), 8), "which Ember does not read"),
        // shapes and their element counts
        ["shape-string"] = (() => One(Entry("\"F32\"", "\"2\"", "[0,8]"), 8), "shape that is not an array"),
        ["shape-object"] = (() => One(Entry("\"F32\"", "{}", "[0,8]"), 8), "shape that is not an array"),
        ["shape-negative"] = (() => One(Entry("\"F32\"", "[-1]", "[0,4]"), 4), "invalid shape entry -1 at dim 0"),
        ["shape-fraction"] = (() => One(Entry("\"F32\"", "[2.5]", "[0,10]"), 10), "invalid shape entry 2.5"),
        ["shape-exponent"] = (() => One(Entry("\"F32\"", "[1e3]", "[0,4000]"), 4000), "invalid shape entry 1e3"),
        ["shape-entry-string"] = (() => One(Entry("\"F32\"", "[\"2\"]", "[0,8]"), 8), "invalid shape entry \"2\""),
        ["shape-entry-null"] = (() => One(Entry("\"F32\"", "[null]", "[0,4]"), 4), "invalid shape entry null"),
        ["shape-entry-above-int32"] = (() => One(Entry("\"F32\"", "[3000000000]", "[0,4]"), 4), "invalid shape entry 3000000000"),
        ["shape-entry-huge"] = (() => One(Entry("\"F32\"", "[99999999999999999999999]", "[0,4]"), 4), "invalid shape entry"),
        ["shape-count-overflows-i64"] = (() => One(Entry("\"F32\"", "[65536,65536,65536,65536]", "[0,4]"), 4), "more elements than a 64-bit count can hold"),
        ["shape-count-overflows-3d"] = (() => One(Entry("\"U8\"", "[2147483647,2147483647,2147483647]", "[0,1]"), 1), "more elements than a 64-bit count can hold"),
        ["shape-bytes-overflow-i64"] = (() => One(Entry("\"F64\"", "[2147483647,2147483647,2]", "[0,8]"), 8), "more bytes than a 64-bit size can hold"),
        ["shape-3.7e19-elements-4-bytes"] = (() => One(Entry("\"F32\"", "[4294967,4294967,2000000]", "[0,4]"), 4), "more elements than a 64-bit count can hold"),
        ["shape-1e9-elements"] = (() => One(Entry("\"F32\"", "[1000000000]", "[0,4000000000]"), 16), "outside the file"),
        ["shape-rank-65"] = (() => One(Entry("\"F32\"", "[" + string.Join(",", Enumerable.Repeat(1, 65)) + "]", "[0,4]"), 4), "65 dims"),
        ["shape-too-few-bytes"] = (() => One(Entry("\"F32\"", "[3]", "[0,16]"), 16), "needs 12 bytes but its data_offsets [0, 16] span 16"),
        ["shape-too-many-bytes"] = (() => One(Entry("\"F32\"", "[5]", "[0,16]"), 16), "needs 20 bytes"),
        ["shape-scalar-mismatch"] = (() => One(Entry("\"F32\"", "[]", "[0,8]"), 8), "needs 4 bytes"),
        ["shape-zero-dim-with-bytes"] = (() => One(Entry("\"F32\"", "[0,4]", "[0,16]"), 16), "needs 0 bytes"),
        ["size-f16"] = (() => One(Entry("\"F16\"", "[3]", "[0,8]"), 8), "needs 6 bytes"),
        ["size-bf16"] = (() => One(Entry("\"BF16\"", "[3]", "[0,8]"), 8), "needs 6 bytes"),
        ["size-i32"] = (() => One(Entry("\"I32\"", "[3]", "[0,8]"), 8), "needs 12 bytes"),
        ["size-u8"] = (() => One(Entry("\"U8\"", "[3]", "[0,8]"), 8), "needs 3 bytes"),
        ["size-i8"] = (() => One(Entry("\"I8\"", "[9]", "[0,8]"), 8), "needs 9 bytes"),
        ["size-bool"] = (() => One(Entry("\"BOOL\"", "[2]", "[0,8]"), 8), "needs 2 bytes"),
        ["size-f64"] = (() => One(Entry("\"F64\"", "[1]", "[0,4]"), 4), "needs 8 bytes"),
        // offsets
        ["offsets-string"] = (() => One(Entry("\"F32\"", "[1]", "\"0-4\""), 4), "needs data_offsets [begin, end]"),
        ["offsets-one"] = (() => One(Entry("\"F32\"", "[1]", "[4]"), 4), "needs data_offsets [begin, end]"),
        ["offsets-three"] = (() => One(Entry("\"F32\"", "[1]", "[0,4,8]"), 8), "needs data_offsets [begin, end]"),
        ["offsets-negative"] = (() => One(Entry("\"F32\"", "[1]", "[-4,0]"), 4), "invalid data offset -4"),
        ["offsets-fraction"] = (() => One(Entry("\"F32\"", "[1]", "[0,4.0]"), 4), "invalid data offset 4.0"),
        ["offsets-strings"] = (() => One(Entry("\"F32\"", "[1]", "[\"0\",\"4\"]"), 4), "invalid data offset \"0\""),
        ["offsets-u64-max"] = (() => One(Entry("\"F32\"", "[1]", "[0,18446744073709551615]"), 4), "invalid data offset 18446744073709551615"),
        ["offsets-reversed"] = (() => One(Entry("\"F32\"", "[1]", "[8,4]"), 8), "end before they begin"),
        ["offsets-beyond-file"] = (() => One(Entry("\"F32\"", "[1]", "[4611686018427387900,4611686018427387904]"), 4), "outside the file"),
        ["offsets-just-past-end"] = (() => One(Entry("\"F32\"", "[2]", "[0,8]"), 7), "outside the file"),
        ["data-truncated"] = (() => File("{" + A + "," + B + "}", 20), "outside the file"),
        ["overlap"] = (() => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "overlaps the previous tensor"),
        ["same-range-twice"] = (() => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "overlaps the previous tensor"),
        ["gap"] = (() => File("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12), "gap of 4 bytes before tensor 'b'"),
        ["gap-at-start"] = (() => One(Entry("\"F32\"", "[1]", "[4,8]"), 8), "gap of 4 bytes before tensor 't'"),
        ["trailing-bytes"] = (() => File("{" + A + "," + B + "}", 32), "8 trailing bytes"),
        ["no-tensors-but-data"] = (() => File("{}", 4), "4 trailing bytes"),
        // values
        ["bool-byte-2"] = (() => HostileFile.SafeTensorsBytes("{\"m\":" + Entry("\"BOOL\"", "[3]", "[0,3]") + "}", [1, 0, 2]), "holds byte 2 at element 2"),
        ["bool-byte-255"] = (() => HostileFile.SafeTensorsBytes("{\"m\":" + Entry("\"BOOL\"", "[1]", "[0,1]") + "}", [255]), "neither 0 nor 1"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Damaged_file_is_refused_with_the_file_and_the_problem(string name)
    {
        var (bytes, problem) = Cases[name];
        var path = Path.Combine(dir, $"{name}.safetensors");
        System.IO.File.WriteAllBytes(path, bytes());
        HostileFile.Refused<InvalidDataException>(() => SafeTensors.Load(path), Path.GetFileName(path), problem);
        // the in-memory reader makes the same promise
        HostileFile.Refused<InvalidDataException>(() => SafeTensors.Read(System.IO.File.ReadAllBytes(path), path, out _), Path.GetFileName(path), problem);
    }

    [Fact]
    public void The_valid_base_of_the_cases_loads()
    {
        // guards the table: the files differ from this one only in the damage named
        var path = Path.Combine(dir, "valid.safetensors");
        var data = new byte[24];
        BitConverter.GetBytes(1.5f).CopyTo(data, 0);
        BitConverter.GetBytes(7L).CopyTo(data, 16);
        System.IO.File.WriteAllBytes(path, HostileFile.SafeTensorsBytes("{" + A + "," + B + ",\"__metadata__\":{\"k\":\"v\"}}", data));
        var loaded = SafeTensors.Load(path, out var metadata);
        Assert.Equal(["a", "b"], loaded.Keys);
        Assert.Equal(1.5, loaded["a"].ToDoubleArray()[0]);
        Assert.Equal(7L, loaded["b"].ToArray<long>()[0]);
        Assert.Equal("v", metadata["k"]);
        // zero-size tensors and an empty header are legal
        System.IO.File.WriteAllBytes(path, HostileFile.SafeTensorsBytes("{\"z\":" + Entry("\"F32\"", "[0,3]", "[0,0]") + "}", []));
        Assert.Equal(new Shape(0, 3), SafeTensors.Load(path)["z"].Shape);
        System.IO.File.WriteAllBytes(path, HostileFile.SafeTensorsBytes("{}", []));
        Assert.Empty(SafeTensors.Load(path));
    }

    [Fact]
    public void A_folder_is_refused_at_once()
    {
        var folder = Path.Combine(dir, "folder.safetensors");
        Directory.CreateDirectory(folder);
        HostileFile.Refused<InvalidDataException>(() => SafeTensors.Load(folder), "folder.safetensors", "is a folder, not a file");
    }

    [Fact]
    public void A_missing_file_and_a_dangling_symlink_are_not_found()
    {
        HostileFile.Refused<FileNotFoundException>(() => SafeTensors.Load(Path.Combine(dir, "missing.safetensors")), "missing.safetensors", "file not found");
        var link = Path.Combine(dir, "dangling.safetensors");
        System.IO.File.CreateSymbolicLink(link, Path.Combine(dir, "nowhere"));
        HostileFile.Refused<FileNotFoundException>(() => SafeTensors.Load(link), "dangling.safetensors", "file not found");
    }

    [LinuxFact]
    public void A_fifo_is_refused_without_blocking()
    {
        var fifo = Path.Combine(dir, "pipe.safetensors");
        Assert.True(HostileFile.MakeFifo(fifo));
        HostileFile.Refused<InvalidDataException>(() => SafeTensors.Load(fifo), "pipe.safetensors", "a FIFO (named pipe), not a regular file", timeoutMs: 5000);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    [InlineData("/dev/null")]
    public void A_symlink_to_a_device_is_refused_without_reading_it(string device)
    {
        if (!System.IO.File.Exists(device)) return;
        var link = Path.Combine(dir, $"link-to-{Path.GetFileName(device)}.safetensors");
        System.IO.File.CreateSymbolicLink(link, device);
        HostileFile.Refused<InvalidDataException>(() => SafeTensors.Load(link), Path.GetFileName(link), "a character device, not a regular file", timeoutMs: 5000);
        HostileFile.Refused<InvalidDataException>(() => SafeTensors.Load(device), device, "not a regular file", timeoutMs: 5000);
    }

    [Fact]
    public void A_header_at_the_cap_is_read_only_as_far_as_the_file_goes()
    {
        // a small file that declares a 99 MB header: refused from the size, never allocated
        var path = Path.Combine(dir, "claims-99mb.safetensors");
        System.IO.File.WriteAllBytes(path, WithLength(99_000_000, 100, 108));
        HostileFile.Refused<InvalidDataException>(() => SafeTensors.Load(path), "claims-99mb.safetensors", "exceeds the file size", maxAllocated: 1 << 20);
    }

    [Fact]
    public void Reads_allocate_about_the_file_size_not_more()
    {
        // a 4 MB tensor: the loader's allocation stays near the data (no whole-file copy beside the tensors)
        var path = Path.Combine(dir, "big.safetensors");
        SafeTensors.Save(path, [new("w", Torch.Zeros(1024, 1024))]);
        var (error, allocated, _) = HostileFile.Run(() => SafeTensors.Load(path));
        Assert.Null(error);
        Assert.InRange(allocated, 4L << 20, (4L << 20) + (1L << 20));
    }
}
