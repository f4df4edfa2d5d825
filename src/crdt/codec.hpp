// The CRDT wire codec: compact, versioned binary for RGA deltas and states (text, and lists of
// strings), LWW-Element-Sets of strings and HLC timestamps. Decoding bad bytes gives an error,
// never undefined behaviour (fuzz target: tests/fuzz/fuzz_crdt.cpp).
//
//   header   'F' '0' 'C'  version(1)  kind(1)  flags(1: bit 0 = body deflated)
//            [deflated: varint body length, then the zlib stream]
//   RGA      varint replicas, each varint id; varint runs; then per-run columns, each for all
//            runs in turn: replica index | counter, zigzag delta from the previous run's end |
//            (len << 1 | deleted) | origin: 0 root, 1 the previous run's last element,
//            2 explicit (replica index, zigzag first - origin counter); then the values of the
//            live runs (text: the bytes; list: varint length + bytes each); varint delete
//            ranges, each replica index, counter, len.
//   LWW      varint replicas table; horizon (ts, replica index); varint entries, each key
//            (varint length + bytes), flags (1 add, 2 remove), and the stamps it has.
// Columns of small deltas deflate well: the automerge-paper document (259,778 edits) encodes,
// with every tombstone, in the figure recorded in docs/BENCHMARKS.md.
#pragma once

#include "crdt/hlc.hpp"
#include "crdt/lww_set.hpp"
#include "crdt/rga.hpp"
#include "util/result.hpp"

#include <string>
#include <string_view>

namespace f0::crdt::codec {

enum class Kind : std::uint8_t { Text = 1, List = 2, LwwSet = 3, Hlc = 4 };
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxDecoded = 256u << 20; // a body may inflate to at most 256 MiB...
// ...and to at most this many times its compressed size (plus 64 KiB): real states deflate by
// 3-10x, a decompression bomb by 1000x.
constexpr std::size_t kMaxInflateRatio = 100;

std::string encode(const Rga<char>::Delta& d, bool deflate = true);
std::string encode(const Rga<std::string>::Delta& d, bool deflate = true);
std::string encode(const LwwElementSet<std::string>& s, bool deflate = true);
std::string encode(HlcTimestamp ts);

Result<Rga<char>::Delta> decode_text(std::string_view bytes);
Result<Rga<std::string>::Delta> decode_list(std::string_view bytes);
Result<LwwElementSet<std::string>> decode_lww(std::string_view bytes);
Result<HlcTimestamp> decode_hlc(std::string_view bytes);

} // namespace f0::crdt::codec
