using System.Buffers.Binary;

namespace Ember.Data;

/// <summary>
/// The size a BMP, GIF or JPEG file declares, read from its own header by a few lines of code apart from the decoder, so
/// that the pixel limit is checked on what the file says before the decoder allocates for it: BMP's info header (a
/// negative height is a top-down image of that many rows), GIF's logical screen and every frame's descriptor, JPEG's
/// frame header (SOFn; the first one is what decoders use). Sizes are 64-bit; a header too short or malformed to give a
/// size is left to the decoder, which then fails on it.
/// </summary>
static class ImageHeader
{
    /// <summary>The format and the largest width × height the file declares, or null when it is none of these formats.</summary>
    public static (string Format, long Width, long Height)? Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 2 && bytes[0] == 'B' && bytes[1] == 'M') return Bmp(bytes);
        if (bytes.Length >= 6 && (bytes[..6].SequenceEqual("GIF87a"u8) || bytes[..6].SequenceEqual("GIF89a"u8))) return Gif(bytes);
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return Jpeg(bytes);
        return null;
    }

    static (string, long, long)? Bmp(ReadOnlySpan<byte> b)
    {
        if (b.Length < 26) return null;
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(b[14..]);
        if (headerSize == 12) return ("BMP", BinaryPrimitives.ReadUInt16LittleEndian(b[18..]), BinaryPrimitives.ReadUInt16LittleEndian(b[20..]));
        // a negative height is a top-down bitmap; long keeps |int.MinValue| from wrapping
        return ("BMP", BinaryPrimitives.ReadInt32LittleEndian(b[18..]), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(b[22..])));
    }

    static (string, long, long)? Gif(ReadOnlySpan<byte> b)
    {
        if (b.Length < 13) return null;
        long width = BinaryPrimitives.ReadUInt16LittleEndian(b[6..]), height = BinaryPrimitives.ReadUInt16LittleEndian(b[8..]);
        int pos = 13 + ((b[10] & 0x80) != 0 ? 3 << ((b[10] & 7) + 1) : 0); // after the global colour table
        // every frame must fit the declared screen, as decoders require; a frame larger than the screen is the size to check
        while (pos < b.Length)
        {
            byte kind = b[pos];
            if (kind == 0x3B) break; // trailer
            if (kind == 0x21) { pos = SkipSubBlocks(b, pos + 2); continue; } // extension: label, then sub-blocks
            if (kind != 0x2C || pos + 10 > b.Length) break; // damaged: the decoder reports it
            long w = BinaryPrimitives.ReadUInt16LittleEndian(b[(pos + 5)..]), h = BinaryPrimitives.ReadUInt16LittleEndian(b[(pos + 7)..]);
            long left = BinaryPrimitives.ReadUInt16LittleEndian(b[(pos + 1)..]), top = BinaryPrimitives.ReadUInt16LittleEndian(b[(pos + 3)..]);
            width = Math.Max(width, left + w);
            height = Math.Max(height, top + h);
            byte flags = b[pos + 9];
            pos += 10 + ((flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0);
            pos = SkipSubBlocks(b, pos + 1); // LZW minimum code size, then the data sub-blocks
        }
        return ("GIF", width, height);
    }

    static int SkipSubBlocks(ReadOnlySpan<byte> b, int pos)
    {
        while (pos < b.Length && b[pos] != 0) pos += b[pos] + 1;
        return pos + 1;
    }

    static (string, long, long)? Jpeg(ReadOnlySpan<byte> b)
    {
        int pos = 2;
        while (pos + 4 <= b.Length)
        {
            if (b[pos] != 0xFF) return null;
            byte marker = b[pos + 1];
            if (marker == 0xFF) { pos++; continue; } // fill byte
            if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7)) { pos += 2; continue; } // markers without a length
            if (marker is 0xD9 or 0xDA) return null; // end of image, or scan data before any frame header
            int length = BinaryPrimitives.ReadUInt16BigEndian(b[(pos + 2)..]);
            bool frame = marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            if (frame)
            {
                if (pos + 9 > b.Length) return null;
                return ("JPEG", BinaryPrimitives.ReadUInt16BigEndian(b[(pos + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(b[(pos + 5)..]));
            }
            pos += 2 + length;
        }
        return null;
    }
}
