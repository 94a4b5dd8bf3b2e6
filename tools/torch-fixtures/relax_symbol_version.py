"""Points one version requirement of an ELF64 shared library at another version the system has.

usage: relax_symbol_version.py LIBRARY REQUIRED REPLACEMENT

The library's version-needs section (SHT_GNU_verneed) lists, per needed library, the symbol versions it requires;
each entry names its version through an offset into the dynamic string table and carries the ELF hash of that name.
This rewrites the entry naming REQUIRED to name REPLACEMENT, a string the table must already hold.
"""
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE


def elf_hash(name: bytes) -> int:
    h = 0
    for byte in name:
        h = ((h << 4) + byte) & 0xFFFFFFFF
        high = h & 0xF0000000
        if high:
            h ^= high >> 24
        h &= ~high & 0xFFFFFFFF
    return h


def main(path: str, required: str, replacement: str) -> None:
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2:
        sys.exit(f"{path}: not an ELF64 file")
    section_offset = struct.unpack_from("<Q", data, 0x28)[0]
    entry_size, count = struct.unpack_from("<HH", data, 0x3A)
    # Elf64_Shdr: name, type, flags, addr, offset, size, link, info, addralign, entsize
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, section_offset + i * entry_size) for i in range(count)]
    verneed = next((s for s in sections if s[1] == SHT_GNU_VERNEED), None)
    if verneed is None:
        sys.exit(f"{path}: no version-needs section")
    strings_offset, strings_size = sections[verneed[6]][4], sections[verneed[6]][5]
    table = bytes(data[strings_offset:strings_offset + strings_size])

    def name_at(offset: int) -> bytes:
        return table[offset:table.index(b"\0", offset)]

    target = table.find(b"\0" + replacement.encode() + b"\0")
    if target < 0:
        sys.exit(f"{path}: its string table has no '{replacement}' to point at")
    target += 1

    changed = 0
    need = verneed[4]
    for _ in range(verneed[7]):  # sh_info: number of Elf64_Verneed entries
        _, aux_count, _, aux_offset, next_offset = struct.unpack_from("<HHIII", data, need)
        aux = need + aux_offset
        for _ in range(aux_count):
            _, flags, other, name, aux_next = struct.unpack_from("<IHHII", data, aux)
            if name_at(name) == required.encode():
                struct.pack_into("<IHHI", data, aux, elf_hash(replacement.encode()), flags, other, target)
                changed += 1
            aux += aux_next
        need += next_offset
    if not changed:
        print(f"{path}: requires no '{required}'; left as it is")
        return
    open(path, "wb").write(bytes(data))
    print(f"{path}: {changed} requirement(s) of {required} now ask for {replacement}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
