// crdt_bench: replays an editing trace (automerge-paper: 259,778 edits) into the text RGA, checks
// the result against endContent, and prints one JSON line as ../shared/BENCH.md defines it:
// time of the replay (plus text() and encoding, as the Yjs/Automerge anchors time theirs), peak
// RSS, encoded size of the whole document (tombstones included). The encoding is then decoded
// into a fresh document and compared, outside the timed part.
#include "crdt/codec.hpp"
#include "crdt/rga.hpp"

#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Patch {
    std::uint32_t pos, del;
    std::string ins;
};

// Reads a gzipped trace with a SAX handler into compact patches (no JSON tree in memory).
struct TraceSax : nlohmann::json_sax<nlohmann::json> {
    std::vector<Patch> patches;
    std::string end_content;
    std::string last_key;
    int depth = 0, field = 0; // depth of arrays inside "patches"; field within a patch
    bool in_patches = false;
    Patch cur{};

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t v) override {
        return number(static_cast<std::uint64_t>(v));
    }
    bool number_unsigned(number_unsigned_t v) override { return number(v); }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool number(std::uint64_t v) {
        if (in_patches && depth == 2) {
            (field == 0 ? cur.pos : cur.del) = static_cast<std::uint32_t>(v);
            ++field;
        }
        return true;
    }
    bool string(string_t& s) override {
        if (in_patches && depth == 2)
            cur.ins = std::move(s);
        else if (last_key == "endContent")
            end_content = std::move(s);
        return true;
    }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t& k) override {
        last_key = k;
        if (k == "patches")
            in_patches = true;
        return true;
    }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override {
        if (in_patches) {
            ++depth;
            if (depth == 2) {
                cur = {};
                field = 0;
            }
        }
        return true;
    }
    bool end_array() override {
        if (in_patches) {
            if (depth == 2)
                patches.push_back(std::move(cur));
            if (--depth == 0)
                in_patches = false;
        }
        return true;
    }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& e) override {
        std::fprintf(stderr, "crdt_bench: the trace is not valid JSON: %s\n", e.what());
        return false;
    }
};

std::string gunzip(const char* path) {
    gzFile f = gzopen(path, "rb");
    if (!f)
        return {};
    std::string out;
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<std::size_t>(n));
    gzclose(f);
    return out;
}

double peak_rss_mb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

} // namespace

int main(int argc, char** argv) {
    const char* path = argc > 1 ? argv[1] : "../shared/data/automerge-paper.json.gz";
    if (argc > 1 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
        std::puts("usage: f0-bench-crdt [TRACE.json.gz]\nReplays the trace into the text RGA "
                  "and prints one JSON line (time, peak RSS, encoded size).");
        return 0;
    }
    TraceSax sax;
    {
        auto text = gunzip(path);
        if (text.empty()) {
            std::fprintf(stderr, "crdt_bench: cannot read %s\n", path);
            return 2;
        }
        if (!nlohmann::json::sax_parse(text, &sax) || sax.patches.empty()) {
            std::fprintf(stderr, "crdt_bench: %s has no patches\n", path);
            return 2;
        }
    }
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    f0::crdt::TextRga doc(1);
    for (const auto& p : sax.patches) {
        if (p.del && !doc.erase(p.pos, p.del)) {
            std::fprintf(stderr, "crdt_bench: delete out of range\n");
            return 1;
        }
        if (!p.ins.empty() && !doc.insert(p.pos, p.ins)) {
            std::fprintf(stderr, "crdt_bench: insert out of range\n");
            return 1;
        }
    }
    std::string text = doc.text();
    std::string encoded = f0::crdt::codec::encode(doc.state());
    double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    double rss = peak_rss_mb();
    // Outside the timing: the encoding decodes into the same document.
    auto t1 = clock::now();
    auto decoded = f0::crdt::codec::decode_text(encoded);
    f0::crdt::TextRga copy(2);
    bool round_trip = decoded && copy.load(decoded.value()) && copy.text() == text;
    double decode_ms = std::chrono::duration<double, std::milli>(clock::now() - t1).count();
    std::printf("{\"impl\":\"f0mesh\",\"bench\":\"crdt_trace\",\"trace\":\"automerge-paper\","
                "\"ops\":%zu,\"ms\":%.1f,\"ok\":%s,\"encoded_bytes\":%zu,\"peak_rss_MB\":%.1f,"
                "\"spans\":%zu,\"decode_ms\":%.1f,\"round_trip\":%s}\n",
                sax.patches.size(), ms, text == sax.end_content ? "true" : "false", encoded.size(),
                rss, doc.span_count(), decode_ms, round_trip ? "true" : "false");
    return text == sax.end_content && round_trip ? 0 : 1;
}
