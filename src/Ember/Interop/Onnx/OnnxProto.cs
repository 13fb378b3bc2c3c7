using Google.Protobuf;

namespace Ember.Interop;

// The few ONNX protobuf messages the exporter writes, hand-written against the field numbers of onnx/onnx.proto
// (proto2 syntax: repeated scalars are written unpacked, as declared there). Each message computes its size and writes
// itself with Google.Protobuf's CodedOutputStream; nested messages are length-delimited. Only the fields Ember sets exist.

/// <summary>Writes a field of each protobuf kind and computes its size (tag included).</summary>
static class Pb
{
    const WireFormat.WireType Varint = WireFormat.WireType.Varint, Delimited = WireFormat.WireType.LengthDelimited, Fixed32 = WireFormat.WireType.Fixed32;

    public static int Int64(int field, long v) => CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeInt64Size(v);
    public static void Int64(CodedOutputStream o, int field, long v) { o.WriteTag(field, Varint); o.WriteInt64(v); }

    public static int Float(int field) => CodedOutputStream.ComputeTagSize(field) + 4;
    public static void Float(CodedOutputStream o, int field, float v) { o.WriteTag(field, Fixed32); o.WriteFloat(v); }

    public static int String(int field, string s) => CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeStringSize(s);
    public static void String(CodedOutputStream o, int field, string s) { o.WriteTag(field, Delimited); o.WriteString(s); }

    public static int Bytes(int field, ByteString b) => CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeBytesSize(b);
    public static void Bytes(CodedOutputStream o, int field, ByteString b) { o.WriteTag(field, Delimited); o.WriteBytes(b); }

    public static int Message(int field, IOnnxMessage m)
    {
        long size = m.Size();
        if (size > int.MaxValue) throw TooLarge(size);
        return CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize((int)size) + (int)size;
    }

    public static void Message(CodedOutputStream o, int field, IOnnxMessage m)
    {
        o.WriteTag(field, Delimited);
        o.WriteLength((int)m.Size());
        m.WriteTo(o);
    }

    public static Exception TooLarge(long size)
        => new NotSupportedException($"Onnx.Export: the model needs {size:N0} bytes, over protobuf's 2 GiB limit for one file (external tensor data is not supported)");
}

interface IOnnxMessage
{
    long Size();
    void WriteTo(CodedOutputStream output);
}

/// <summary>onnx.ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8.</summary>
sealed class ModelProto : IOnnxMessage
{
    public long IrVersion;
    public string ProducerName = "", ProducerVersion = "";
    public GraphProto Graph = new();
    public List<OperatorSetIdProto> OpsetImport = new();

    public long Size()
    {
        long n = Pb.Int64(1, IrVersion) + Pb.String(2, ProducerName) + Pb.String(3, ProducerVersion) + Pb.Message(7, Graph);
        foreach (var o in OpsetImport) n += Pb.Message(8, o);
        return n;
    }

    public void WriteTo(CodedOutputStream o)
    {
        Pb.Int64(o, 1, IrVersion);
        Pb.String(o, 2, ProducerName);
        Pb.String(o, 3, ProducerVersion);
        Pb.Message(o, 7, Graph);
        foreach (var op in OpsetImport) Pb.Message(o, 8, op);
    }
}

/// <summary>onnx.OperatorSetIdProto: domain = 1, version = 2.</summary>
sealed class OperatorSetIdProto : IOnnxMessage
{
    public string Domain = "";
    public long Version;

    public long Size() => (Domain.Length > 0 ? Pb.String(1, Domain) : 0) + Pb.Int64(2, Version);

    public void WriteTo(CodedOutputStream o)
    {
        if (Domain.Length > 0) Pb.String(o, 1, Domain);
        Pb.Int64(o, 2, Version);
    }
}

/// <summary>onnx.GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.</summary>
sealed class GraphProto : IOnnxMessage
{
    public string Name = "";
    public List<NodeProto> Nodes = new();
    public List<TensorProto> Initializers = new();
    public List<ValueInfoProto> Inputs = new(), Outputs = new();

    public long Size()
    {
        long n = Pb.String(2, Name);
        foreach (var x in Nodes) n += Pb.Message(1, x);
        foreach (var x in Initializers) n += Pb.Message(5, x);
        foreach (var x in Inputs) n += Pb.Message(11, x);
        foreach (var x in Outputs) n += Pb.Message(12, x);
        return n;
    }

    public void WriteTo(CodedOutputStream o)
    {
        foreach (var x in Nodes) Pb.Message(o, 1, x);
        Pb.String(o, 2, Name);
        foreach (var x in Initializers) Pb.Message(o, 5, x);
        foreach (var x in Inputs) Pb.Message(o, 11, x);
        foreach (var x in Outputs) Pb.Message(o, 12, x);
    }
}

/// <summary>onnx.NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.</summary>
sealed class NodeProto : IOnnxMessage
{
    public List<string> Inputs = new(), Outputs = new();
    public string Name = "", OpType = "";
    public List<AttributeProto> Attributes = new();

    public long Size()
    {
        long n = Pb.String(3, Name) + Pb.String(4, OpType);
        foreach (var s in Inputs) n += Pb.String(1, s);
        foreach (var s in Outputs) n += Pb.String(2, s);
        foreach (var a in Attributes) n += Pb.Message(5, a);
        return n;
    }

    public void WriteTo(CodedOutputStream o)
    {
        foreach (var s in Inputs) Pb.String(o, 1, s);
        foreach (var s in Outputs) Pb.String(o, 2, s);
        Pb.String(o, 3, Name);
        Pb.String(o, 4, OpType);
        foreach (var a in Attributes) Pb.Message(o, 5, a);
    }
}

/// <summary>onnx.AttributeProto: name = 1, f = 2, i = 3, s = 4, floats = 7, ints = 8, strings = 9, type = 20.</summary>
sealed class AttributeProto : IOnnxMessage
{
    // AttributeProto.AttributeType
    const int FloatType = 1, IntType = 2, StringType = 3, FloatsType = 6, IntsType = 7, StringsType = 8;

    public string Name = "";
    public int Type;
    public float F;
    public long I;
    public string S = "";
    public float[] Floats = [];
    public long[] Ints = [];
    public string[] Strings = [];

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = IntType, I = value };
    public static AttributeProto Float(string name, double value) => new() { Name = name, Type = FloatType, F = (float)value };
    public static AttributeProto String(string name, string value) => new() { Name = name, Type = StringType, S = value };
    public static AttributeProto IntList(string name, params long[] values) => new() { Name = name, Type = IntsType, Ints = values };
    public static AttributeProto FloatList(string name, params float[] values) => new() { Name = name, Type = FloatsType, Floats = values };
    public static AttributeProto StringList(string name, params string[] values) => new() { Name = name, Type = StringsType, Strings = values };

    public long Size()
    {
        long n = Pb.String(1, Name) + Pb.Int64(20, Type);
        switch (Type)
        {
            case FloatType: n += Pb.Float(2); break;
            case IntType: n += Pb.Int64(3, I); break;
            case StringType: n += Pb.Bytes(4, ByteString.CopyFromUtf8(S)); break;
            case FloatsType: n += Floats.Length * (long)Pb.Float(7); break;
            case IntsType: foreach (var v in Ints) n += Pb.Int64(8, v); break;
            case StringsType: foreach (var v in Strings) n += Pb.Bytes(9, ByteString.CopyFromUtf8(v)); break;
        }
        return n;
    }

    public void WriteTo(CodedOutputStream o)
    {
        Pb.String(o, 1, Name);
        switch (Type)
        {
            case FloatType: Pb.Float(o, 2, F); break;
            case IntType: Pb.Int64(o, 3, I); break;
            case StringType: Pb.Bytes(o, 4, ByteString.CopyFromUtf8(S)); break;
            case FloatsType: foreach (var v in Floats) Pb.Float(o, 7, v); break;
            case IntsType: foreach (var v in Ints) Pb.Int64(o, 8, v); break;
            case StringsType: foreach (var v in Strings) Pb.Bytes(o, 9, ByteString.CopyFromUtf8(v)); break;
        }
        Pb.Int64(o, 20, Type);
    }
}

/// <summary>onnx.TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian, row-major).</summary>
sealed class TensorProto : IOnnxMessage
{
    // TensorProto.DataType
    public const int Float = 1, UInt8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9, Float16 = 10, Double = 11, BFloat16 = 16;

    public string Name = "";
    public long[] Dims = [];
    public int DataType;
    public ByteString RawData = ByteString.Empty;

    public long Size()
    {
        long n = Pb.Int64(2, DataType) + Pb.String(8, Name) + CodedOutputStream.ComputeTagSize(9)
            + CodedOutputStream.ComputeLengthSize(RawData.Length) + RawData.Length;
        foreach (var d in Dims) n += Pb.Int64(1, d);
        return n;
    }

    public void WriteTo(CodedOutputStream o)
    {
        foreach (var d in Dims) Pb.Int64(o, 1, d);
        Pb.Int64(o, 2, DataType);
        Pb.String(o, 8, Name);
        Pb.Bytes(o, 9, RawData);
    }
}

/// <summary>onnx.ValueInfoProto: name = 1, type = 2 (a TypeProto whose tensor_type = 1 holds elem_type = 1 and shape = 2).</summary>
sealed class ValueInfoProto : IOnnxMessage
{
    public string Name = "";
    public TypeProto Type = new();

    public long Size() => Pb.String(1, Name) + Pb.Message(2, Type);

    public void WriteTo(CodedOutputStream o)
    {
        Pb.String(o, 1, Name);
        Pb.Message(o, 2, Type);
    }
}

/// <summary>onnx.TypeProto with only its tensor_type (field 1) case.</summary>
sealed class TypeProto : IOnnxMessage
{
    public TensorTypeProto TensorType = new();

    public long Size() => Pb.Message(1, TensorType);
    public void WriteTo(CodedOutputStream o) => Pb.Message(o, 1, TensorType);
}

/// <summary>onnx.TypeProto.Tensor: elem_type = 1, shape = 2.</summary>
sealed class TensorTypeProto : IOnnxMessage
{
    public int ElemType;
    public TensorShapeProto Shape = new();

    public long Size() => Pb.Int64(1, ElemType) + Pb.Message(2, Shape);

    public void WriteTo(CodedOutputStream o)
    {
        Pb.Int64(o, 1, ElemType);
        Pb.Message(o, 2, Shape);
    }
}

/// <summary>onnx.TensorShapeProto: dim = 1, each a Dimension with dim_value = 1 or dim_param = 2.</summary>
sealed class TensorShapeProto : IOnnxMessage
{
    public List<Dimension> Dims = new();

    public long Size()
    {
        long n = 0;
        foreach (var d in Dims) n += Pb.Message(1, d);
        return n;
    }

    public void WriteTo(CodedOutputStream o)
    {
        foreach (var d in Dims) Pb.Message(o, 1, d);
    }

    public sealed class Dimension : IOnnxMessage
    {
        public long Value;
        public string? Param;

        public long Size() => Param is null ? Pb.Int64(1, Value) : Pb.String(2, Param);

        public void WriteTo(CodedOutputStream o)
        {
            if (Param is null) Pb.Int64(o, 1, Value);
            else Pb.String(o, 2, Param);
        }
    }
}
