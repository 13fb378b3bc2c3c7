#!/usr/bin/env python3
"""Marks one symbol-version requirement of an ELF64 shared library weak (VER_FLG_WEAK in its Vernaux entry).

Usage: weaken_version.py LIBRARY VERSION      e.g. libLibTorchSharp.so GLIBCXX_3.4.32

With the flag set, the dynamic loader only warns when no loaded library provides VERSION instead of refusing to
load. Use it only after every symbol bound to that version has been rebound (patchelf --clear-symbol-version) or
provided elsewhere. Edits the file in place; exits 1 if the requirement is not found.
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def main(path: str, version: str) -> int:
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        print(f"{path}: not a little-endian ELF64 file", file=sys.stderr)
        return 1
    section_offset = struct.unpack_from("<Q", data, 0x28)[0]
    entry_size, count = struct.unpack_from("<HH", data, 0x3A)
    # Section header: name, type, flags, addr, offset, size, link, info, addralign, entsize.
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, section_offset + i * entry_size) for i in range(count)]

    def string_at(table_offset: int, offset: int) -> bytes:
        start = table_offset + offset
        return bytes(data[start:data.index(b"\0", start)])

    wanted = version.encode()
    changed = 0
    for _, kind, _, _, offset, _, link, info, _, _ in sections:
        if kind != SHT_GNU_VERNEED:
            continue
        strings = sections[link][4]  # the linked string table's file offset
        need = offset
        for _ in range(info):  # info = number of Verneed entries (one per needed library)
            _, aux_count, file_name, aux, next_need = struct.unpack_from("<HHIII", data, need)
            entry = need + aux
            for _ in range(aux_count):
                _, flags, _, name, next_aux = struct.unpack_from("<IHHII", data, entry)
                if string_at(strings, name) == wanted:
                    struct.pack_into("<H", data, entry + 4, flags | VER_FLG_WEAK)
                    print(f"{version} required from {string_at(strings, file_name).decode()} is now weak")
                    changed += 1
                entry += next_aux
            if next_need == 0:
                break
            need += next_need
    if changed == 0:
        print(f"{path}: no requirement of {version}", file=sys.stderr)
        return 1
    open(path, "wb").write(data)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
