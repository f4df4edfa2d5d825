// CRDT codec; see codec.hpp for the layout.
#include "crdt/codec.hpp"

#include <zlib.h>

#include <map>

namespace f0::crdt::codec {

namespace {

class Writer {
public:
    void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            byte(static_cast<std::uint8_t>(v | 0x80));
            v >>= 7;
        }
        byte(static_cast<std::uint8_t>(v));
    }
    void zigzag(std::int64_t v) {
        varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
    }
    void bytes(std::string_view s) { out_.append(s); }
    void str(std::string_view s) {
        varint(s.size());
        bytes(s);
    }
    std::string& out() { return out_; }

private:
    std::string out_;
};

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    bool ok() const { return ok_; }
    const std::string& error() const { return error_; }
    std::size_t left() const { return in_.size() - pos_; }
    bool fail(std::string why) {
        if (ok_) {
            ok_ = false;
            error_ = std::move(why);
        }
        return false;
    }
    std::uint8_t byte() {
        if (pos_ >= in_.size()) {
            fail("truncated");
            return 0;
        }
        return static_cast<std::uint8_t>(in_[pos_++]);
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            std::uint8_t b = byte();
            if (!ok_)
                return 0;
            if (shift == 63 && b > 1) {
                fail("varint overflows 64 bits");
                return 0;
            }
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80))
                return v;
        }
        fail("varint too long");
        return 0;
    }
    std::int64_t zigzag() {
        auto u = varint();
        return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
    }
    // A count of items of at least min_bytes each: never more than the bytes left could hold.
    std::uint64_t count(std::size_t min_bytes) {
        auto n = varint();
        if (ok_ && n > left() / std::max<std::size_t>(min_bytes, 1))
            fail("a count is larger than the data");
        return ok_ ? n : 0;
    }
    std::string_view take(std::uint64_t n) {
        if (n > left()) {
            fail("truncated");
            return {};
        }
        auto s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    std::string_view str() { return take(varint()); }

private:
    std::string_view in_;
    std::size_t pos_ = 0;
    bool ok_ = true;
    std::string error_;
};

std::string frame(Kind kind, std::string body, bool deflate) {
    Writer w;
    w.bytes("F0C");
    w.byte(kVersion);
    w.byte(static_cast<std::uint8_t>(kind));
    if (!deflate || body.size() < 64) {
        w.byte(0);
        w.bytes(body);
        return std::move(w.out());
    }
    uLongf cap = compressBound(body.size());
    std::string z(cap, '\0');
    if (compress2(reinterpret_cast<Bytef*>(z.data()), &cap,
                  reinterpret_cast<const Bytef*>(body.data()), body.size(), 9) != Z_OK) {
        w.byte(0);
        w.bytes(body);
        return std::move(w.out());
    }
    z.resize(cap);
    w.byte(1);
    w.varint(body.size());
    w.bytes(z);
    return std::move(w.out());
}

Result<std::string> unframe(std::string_view in, Kind kind) {
    if (in.size() < 6 || in.substr(0, 3) != "F0C")
        return make_error("not an f0mesh CRDT encoding (bad magic)");
    if (static_cast<std::uint8_t>(in[3]) != kVersion)
        return make_error("unsupported CRDT encoding version " +
                          std::to_string(static_cast<std::uint8_t>(in[3])));
    if (static_cast<std::uint8_t>(in[4]) != static_cast<std::uint8_t>(kind))
        return make_error("the encoding holds another kind of CRDT");
    auto flags = static_cast<std::uint8_t>(in[5]);
    if (flags > 1)
        return make_error("unknown flags in the encoding");
    if (flags == 0)
        return std::string(in.substr(6));
    Reader r(in.substr(6));
    auto raw = r.varint();
    if (!r.ok())
        return make_error(r.error());
    auto z = in.substr(6 + (in.size() - 6 - r.left()));
    if (raw > kMaxDecoded || raw > (64u << 10) + kMaxInflateRatio * z.size())
        return make_error("the encoding would inflate past the limit");
    std::string out(raw, '\0');
    uLongf got = raw;
    if (uncompress(reinterpret_cast<Bytef*>(out.data()), &got,
                   reinterpret_cast<const Bytef*>(z.data()), z.size()) != Z_OK ||
        got != raw)
        return make_error("the deflated body is corrupt");
    return out;
}

// Replica ids as indexes into a table written first.
struct Replicas {
    std::map<ReplicaId, std::uint64_t> index;
    std::vector<ReplicaId> ids;
    std::uint64_t of(ReplicaId r) {
        auto [it, fresh] = index.try_emplace(r, ids.size());
        if (fresh)
            ids.push_back(r);
        return it->second;
    }
};

template <class T> void write_values(Writer& w, const std::vector<T>& v);
template <> void write_values(Writer& w, const std::vector<char>& v) {
    w.bytes(std::string_view(v.data(), v.size()));
}
template <> void write_values(Writer& w, const std::vector<std::string>& v) {
    for (const auto& s : v)
        w.str(s);
}
template <class T> bool read_values(Reader& r, std::uint32_t n, std::vector<T>& out);
template <> bool read_values(Reader& r, std::uint32_t n, std::vector<char>& out) {
    auto s = r.take(n);
    out.assign(s.begin(), s.end());
    return r.ok();
}
template <> bool read_values(Reader& r, std::uint32_t n, std::vector<std::string>& out) {
    if (n > r.left())
        return r.fail("a run is longer than the data");
    out.reserve(n);
    for (std::uint32_t i = 0; i < n && r.ok(); ++i)
        out.emplace_back(r.str());
    return r.ok();
}

template <class T> std::string encode_rga(const typename Rga<T>::Delta& d, Kind kind, bool z) {
    Replicas reps;
    for (const auto& run : d.runs) {
        reps.of(run.first.replica);
        if (!run.origin.is_root())
            reps.of(run.origin.replica);
    }
    for (const auto& del : d.deletes)
        reps.of(del.first.replica);
    Writer w;
    w.varint(reps.ids.size());
    for (auto id : reps.ids)
        w.varint(id);
    w.varint(d.runs.size());
    for (const auto& run : d.runs)
        w.varint(reps.of(run.first.replica));
    for (const auto& run : d.runs)
        w.varint((static_cast<std::uint64_t>(run.len) << 1) | (run.deleted ? 1 : 0));
    std::uint64_t end = 0;
    for (const auto& run : d.runs) {
        w.zigzag(static_cast<std::int64_t>(run.first.counter - end));
        end = run.first.counter + run.len;
    }
    ElemId prev_last{};
    for (const auto& run : d.runs) {
        if (run.origin.is_root()) {
            w.byte(0);
        } else if (run.origin == prev_last) {
            w.byte(1);
        } else {
            w.byte(2);
            w.varint(reps.of(run.origin.replica));
            w.zigzag(static_cast<std::int64_t>(run.first.counter - run.origin.counter));
        }
        prev_last = run.first.plus(run.len - 1);
    }
    for (const auto& run : d.runs)
        if (!run.deleted)
            write_values(w, run.values);
    w.varint(d.deletes.size());
    for (const auto& del : d.deletes) {
        w.varint(reps.of(del.first.replica));
        w.varint(del.first.counter);
        w.varint(del.len);
    }
    return frame(kind, std::move(w.out()), z);
}

template <class T> Result<typename Rga<T>::Delta> decode_rga(std::string_view bytes, Kind kind) {
    auto body = unframe(bytes, kind);
    if (!body)
        return body.error();
    Reader r(body.value());
    auto bad = [&]() { return make_error("bad CRDT encoding: " + r.error()); };
    auto n_reps = r.count(1);
    std::vector<ReplicaId> reps;
    for (std::uint64_t i = 0; i < n_reps && r.ok(); ++i)
        reps.push_back(r.varint());
    auto rep = [&](std::uint64_t i) {
        if (i >= reps.size()) {
            r.fail("a replica index is out of range");
            return ReplicaId{0};
        }
        return reps[i];
    };
    typename Rga<T>::Delta d;
    auto n_runs = r.count(4); // four columns of at least one byte each
    d.runs.resize(n_runs);
    for (auto& run : d.runs)
        run.first.replica = rep(r.varint());
    for (auto& run : d.runs) {
        auto lf = r.varint();
        if (r.ok() && (lf >> 1 == 0 || lf >> 1 > 0xffffffffu))
            r.fail("a run length is 0 or too large");
        run.len = static_cast<std::uint32_t>(lf >> 1);
        run.deleted = lf & 1;
    }
    std::uint64_t end = 0;
    for (auto& run : d.runs) {
        run.first.counter = end + static_cast<std::uint64_t>(r.zigzag());
        end = run.first.counter + run.len;
        if (r.ok() && (run.first.counter == 0 || end < run.first.counter))
            r.fail("a run has an invalid id");
    }
    ElemId prev_last{};
    for (auto& run : d.runs) {
        switch (r.byte()) {
        case 0:
            run.origin = {};
            break;
        case 1:
            if (prev_last.is_root())
                r.fail("the first run cannot follow a previous run");
            run.origin = prev_last;
            break;
        case 2:
            run.origin.replica = rep(r.varint());
            run.origin.counter = run.first.counter - static_cast<std::uint64_t>(r.zigzag());
            if (r.ok() && run.origin.is_root())
                r.fail("an explicit origin is the root");
            break;
        default:
            r.fail("unknown origin tag");
        }
        if (!r.ok())
            return bad();
        prev_last = run.first.plus(run.len - 1);
    }
    for (auto& run : d.runs)
        if (!run.deleted && !read_values(r, run.len, run.values))
            return bad();
    auto n_del = r.count(3);
    for (std::uint64_t i = 0; i < n_del && r.ok(); ++i) {
        typename Rga<T>::DeleteRange del;
        del.first.replica = rep(r.varint());
        del.first.counter = r.varint();
        auto len = r.varint();
        if (r.ok() && (len == 0 || len > 0xffffffffu || del.first.counter == 0 ||
                       del.first.counter + len < del.first.counter))
            r.fail("a delete range is invalid");
        del.len = static_cast<std::uint32_t>(len);
        d.deletes.push_back(del);
    }
    if (r.ok() && r.left() != 0)
        r.fail("trailing bytes");
    if (!r.ok())
        return bad();
    return d;
}

} // namespace

std::string encode(const Rga<char>::Delta& d, bool deflate) {
    return encode_rga<char>(d, Kind::Text, deflate);
}
std::string encode(const Rga<std::string>::Delta& d, bool deflate) {
    return encode_rga<std::string>(d, Kind::List, deflate);
}
Result<Rga<char>::Delta> decode_text(std::string_view bytes) {
    return decode_rga<char>(bytes, Kind::Text);
}
Result<Rga<std::string>::Delta> decode_list(std::string_view bytes) {
    return decode_rga<std::string>(bytes, Kind::List);
}

std::string encode(const LwwElementSet<std::string>& s, bool deflate) {
    Replicas reps;
    reps.of(s.horizon().replica);
    for (const auto& [k, e] : s.entries()) {
        if (e.add)
            reps.of(e.add->replica);
        if (e.remove)
            reps.of(e.remove->replica);
    }
    Writer w;
    w.varint(reps.ids.size());
    for (auto id : reps.ids)
        w.varint(id);
    w.varint(s.horizon().ts.raw);
    w.varint(reps.of(s.horizon().replica));
    w.varint(s.entries().size());
    for (const auto& [k, e] : s.entries()) {
        w.str(k);
        w.byte((e.add ? 1 : 0) | (e.remove ? 2 : 0));
        for (const auto& st : {e.add, e.remove})
            if (st) {
                w.varint(st->ts.raw);
                w.varint(reps.of(st->replica));
            }
    }
    return frame(Kind::LwwSet, std::move(w.out()), deflate);
}

Result<LwwElementSet<std::string>> decode_lww(std::string_view bytes) {
    auto body = unframe(bytes, Kind::LwwSet);
    if (!body)
        return body.error();
    Reader r(body.value());
    auto n_reps = r.count(1);
    std::vector<ReplicaId> reps;
    for (std::uint64_t i = 0; i < n_reps && r.ok(); ++i)
        reps.push_back(r.varint());
    auto stamp = [&]() {
        Stamp st;
        st.ts.raw = r.varint();
        auto i = r.varint();
        if (r.ok() && i >= reps.size())
            r.fail("a replica index is out of range");
        if (r.ok())
            st.replica = reps[i];
        return st;
    };
    LwwElementSet<std::string> s;
    s.set_horizon(stamp());
    auto n = r.count(2);
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
        std::string key(r.str());
        auto flags = r.byte();
        if (r.ok() && (flags == 0 || flags > 3))
            r.fail("an entry has neither add nor remove");
        LwwElementSet<std::string>::Entry e;
        if (flags & 1)
            e.add = stamp();
        if (flags & 2)
            e.remove = stamp();
        if (r.ok())
            s.put(key, e);
    }
    if (r.ok() && r.left() != 0)
        r.fail("trailing bytes");
    if (!r.ok())
        return make_error("bad CRDT encoding: " + r.error());
    return s;
}

std::string encode(HlcTimestamp ts) {
    Writer w;
    w.varint(ts.raw);
    return frame(Kind::Hlc, std::move(w.out()), false);
}

Result<HlcTimestamp> decode_hlc(std::string_view bytes) {
    auto body = unframe(bytes, Kind::Hlc);
    if (!body)
        return body.error();
    Reader r(body.value());
    HlcTimestamp ts{r.varint()};
    if (r.ok() && r.left() != 0)
        r.fail("trailing bytes");
    if (!r.ok())
        return make_error("bad CRDT encoding: " + r.error());
    return ts;
}

} // namespace f0::crdt::codec
