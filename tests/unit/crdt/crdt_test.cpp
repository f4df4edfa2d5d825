// HLC, LWW-Element-Set, RGA and the codec: the rules, one case at a time.
#include "crdt/codec.hpp"

#include <gtest/gtest.h>

#include <zlib.h>

using namespace f0::crdt;

TEST(Hlc, FollowsTheWallClockAndNeverGoesBack) {
    Hlc c;
    auto a = c.now(1000);
    EXPECT_EQ(a.physical_ms(), 1000u);
    EXPECT_EQ(a.logical(), 0u);
    auto b = c.now(1000); // same millisecond: the counter
    EXPECT_EQ(b, HlcTimestamp::make(1000, 1));
    auto back = c.now(500); // the wall clock stepped back: keep l, count on
    EXPECT_EQ(back, HlcTimestamp::make(1000, 2));
    EXPECT_GT(back, b);
    EXPECT_EQ(c.now(2000), HlcTimestamp::make(2000, 0));
}

TEST(Hlc, ReceiveTakesTheMaximumAndRefusesTimestampsTooFarAhead) {
    Hlc c(100);
    c.now(1000);
    auto r = c.receive(HlcTimestamp::make(1050, 7), 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value(), HlcTimestamp::make(1050, 8)); // l = remote's, c = remote's + 1
    auto same = c.receive(HlcTimestamp::make(1050, 3), 1000);
    EXPECT_EQ(same.value(), HlcTimestamp::make(1050, 9)); // max(c, remote c) + 1
    auto older = c.receive(HlcTimestamp::make(900, 50), 1000);
    EXPECT_EQ(older.value(), HlcTimestamp::make(1050, 10));
    auto wall = c.receive(HlcTimestamp::make(900, 50), 1200);
    EXPECT_EQ(wall.value(), HlcTimestamp::make(1200, 0));
    auto before = c.last();
    auto far = c.receive(HlcTimestamp::make(1301, 0), 1200);
    ASSERT_FALSE(far);
    EXPECT_NE(far.error().message.find("ahead"), std::string::npos);
    EXPECT_EQ(c.last(), before) << "a refused timestamp is not adopted";
    EXPECT_TRUE(c.receive(HlcTimestamp::make(1300, 0), 1200)); // exactly max offset: fine
}

TEST(Hlc, LogicalOverflowCarriesIntoMilliseconds) {
    Hlc c;
    auto r = c.receive(HlcTimestamp::make(1000, 0xfffe), 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value(), HlcTimestamp::make(1000, 0xffff));
    EXPECT_EQ(c.now(1000), HlcTimestamp::make(1001, 0)); // the counter is full: carry
    EXPECT_EQ(c.now(1000), HlcTimestamp::make(1001, 1));
}

TEST(LwwElementSet, LastWriterWinsWithAddBiasAndDeltas) {
    LwwElementSet<std::string> s;
    Stamp t1{HlcTimestamp::make(1, 0), 1}, t2{HlcTimestamp::make(2, 0), 1},
        t2b{HlcTimestamp::make(2, 0), 2};
    auto d1 = s.add("a", t1);
    EXPECT_TRUE(s.contains("a"));
    EXPECT_EQ(d1.entries().size(), 1u);
    s.remove("a", t2);
    EXPECT_FALSE(s.contains("a"));
    s.add("a", t1); // older add: no change
    EXPECT_FALSE(s.contains("a"));
    s.add("a", t2b); // same time, greater replica: a later stamp
    EXPECT_TRUE(s.contains("a"));
    LwwElementSet<std::string> tie;
    tie.add("x", t2);
    tie.remove("x", t2); // identical stamps: add-bias
    EXPECT_TRUE(tie.contains("x"));
    LwwElementSet<std::string> other;
    other.merge(d1);
    EXPECT_TRUE(other.contains("a"));
}

TEST(LwwElementSet, CompactionDropsOldTombstonesAndKeepsStragglersOut) {
    LwwElementSet<std::string> s;
    Stamp t1{HlcTimestamp::make(1, 0), 1}, t2{HlcTimestamp::make(2, 0), 1},
        t5{HlcTimestamp::make(5, 0), 1}, t9{HlcTimestamp::make(9, 0), 1};
    s.add("gone", t1);
    s.remove("gone", t2);
    s.add("kept", t1);
    s.add("late", t1);
    s.remove("late", t9); // removed after the horizon: stays a tombstone
    EXPECT_EQ(s.compact(t5), 1u);
    EXPECT_EQ(s.entry("gone"), nullptr);
    EXPECT_NE(s.entry("late"), nullptr);
    EXPECT_TRUE(s.contains("kept"));
    LwwElementSet<std::string> straggler;
    straggler.add("gone", t1); // a replica that missed the remove sends its old add
    s.merge(straggler);
    EXPECT_FALSE(s.contains("gone"));
    LwwElementSet<std::string> fresh;
    fresh.add("gone", t9); // a new add after the horizon does count
    s.merge(fresh);
    EXPECT_TRUE(s.contains("gone"));
    // A replica joining later takes the compacted state whole, old survivors included.
    LwwElementSet<std::string> joiner;
    joiner.merge(s);
    EXPECT_TRUE(joiner == s);
    EXPECT_TRUE(joiner.contains("kept"));
    auto decoded = codec::decode_lww(codec::encode(s));
    ASSERT_TRUE(decoded);
    EXPECT_TRUE(decoded.value() == s);
}

TEST(Rga, LocalEditsAndConcurrentInsertsAtTheSamePlace) {
    TextRga a(1), b(2);
    auto d1 = a.insert(0, "hello").value();
    ASSERT_TRUE(b.apply(d1));
    EXPECT_EQ(b.text(), "hello");
    auto da = a.insert(5, " world").value();
    auto db = b.insert(5, "!!").value();
    ASSERT_TRUE(a.apply(db));
    ASSERT_TRUE(b.apply(da));
    EXPECT_EQ(a.text(), b.text());
    // Same counter: the greater replica id goes first.
    EXPECT_EQ(a.text(), "hello!! world");
    auto del = a.erase(0, 5).value();
    ASSERT_TRUE(b.apply(del));
    EXPECT_EQ(b.text(), "!! world");
    EXPECT_FALSE(a.insert(100, "x"));
    EXPECT_FALSE(a.erase(3, 100));
    EXPECT_EQ(a.size(), 8u);
}

TEST(Rga, OutOfOrderDeltasWaitForTheirOrigins) {
    TextRga a(1), b(2);
    auto d1 = a.insert(0, "ab").value();
    auto d2 = a.insert(1, "X").value();
    auto d3 = a.erase(0, 1).value();
    ASSERT_TRUE(b.apply(d3)); // deletes an element b has not seen
    ASSERT_TRUE(b.apply(d2)); // inserts after an element b has not seen
    EXPECT_EQ(b.text(), "");
    EXPECT_EQ(b.pending(), 2u);
    ASSERT_TRUE(b.apply(d1));
    EXPECT_EQ(b.pending(), 0u);
    EXPECT_EQ(b.text(), a.text());
    EXPECT_EQ(a.text(), "Xb");
    ASSERT_TRUE(b.apply(d1)); // duplicates change nothing
    ASSERT_TRUE(b.apply(d2));
    EXPECT_EQ(b.text(), "Xb");
}

TEST(Rga, StateSummaryAndMissing) {
    TextRga a(1), b(2);
    ASSERT_TRUE(b.apply(a.insert(0, "shared").value()));
    auto only_a = a.insert(6, " text").value();
    (void)only_a;
    ASSERT_TRUE(a.erase(0, 1));
    auto missing = a.missing_for(b.summary());
    ASSERT_TRUE(b.apply(missing));
    EXPECT_EQ(b.text(), a.text());
    EXPECT_EQ(b.text(), "hared text");
    TextRga c(3);
    ASSERT_TRUE(c.load(a.state()));
    EXPECT_EQ(c.text(), a.text());
    EXPECT_FALSE(c.load(a.state())) << "load needs an empty document";
}

TEST(Codec, RoundTripsEveryKindAndRefusesBadBytes) {
    TextRga a(7);
    ASSERT_TRUE(a.insert(0, std::string(500, 'x')));
    ASSERT_TRUE(a.erase(10, 100));
    ASSERT_TRUE(a.insert(3, "abc"));
    for (bool z : {false, true}) {
        auto bytes = codec::encode(a.state(), z);
        auto back = codec::decode_text(bytes);
        ASSERT_TRUE(back) << back.error().message;
        TextRga b(8);
        ASSERT_TRUE(b.load(back.value()));
        EXPECT_EQ(b.text(), a.text());
        EXPECT_EQ(codec::encode(b.state(), z), bytes);
    }
    Rga<std::string> list(1);
    std::vector<std::string> items{"one", "two", ""};
    auto ld = list.insert(0, items).value();
    auto lb = codec::decode_list(codec::encode(ld));
    ASSERT_TRUE(lb);
    EXPECT_EQ(lb.value().runs[0].values, items);
    LwwElementSet<std::string> s;
    s.add("p", {HlcTimestamp::make(5, 1), 3});
    s.remove("q", {HlcTimestamp::make(6, 0), 4});
    auto sb = codec::decode_lww(codec::encode(s));
    ASSERT_TRUE(sb);
    EXPECT_TRUE(sb.value() == s);
    auto hb = codec::decode_hlc(codec::encode(HlcTimestamp::make(123, 4)));
    ASSERT_TRUE(hb);
    EXPECT_EQ(hb.value(), HlcTimestamp::make(123, 4));

    auto good = codec::encode(a.state(), false);
    std::vector<std::string> bad{"",
                                 "XYZ",
                                 good.substr(0, 3) + "\x09" + good.substr(4),  // version
                                 codec::encode(s),                             // another kind
                                 good.substr(0, good.size() - 1),              // truncated
                                 good + "x",                                   // trailing
                                 good.substr(0, 5) + "\x07" + good.substr(6)}; // flags
    for (const auto& b : bad)
        EXPECT_FALSE(codec::decode_text(b)) << b.size();
    auto z = codec::encode(a.state(), true);
    z[z.size() / 2] ^= 0x55;
    EXPECT_FALSE(codec::decode_text(z));
}

TEST(Codec, RefusesDecompressionBombs) {
    // 8 MiB of zeros deflate to ~8 KiB: a ratio of 1000, far past what any real state has.
    std::string zeros(8u << 20, '\0');
    uLongf cap = compressBound(zeros.size());
    std::string z(cap, '\0');
    ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(z.data()), &cap,
                        reinterpret_cast<const Bytef*>(zeros.data()), zeros.size(), 9),
              Z_OK);
    z.resize(cap);
    std::string framed = "F0C";
    framed += static_cast<char>(codec::kVersion);
    framed += static_cast<char>(codec::Kind::LwwSet);
    framed += '\x01';                                // deflated
    for (std::uint64_t v = zeros.size();; v >>= 7) { // varint of the inflated size
        framed += static_cast<char>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    framed += z;
    auto r = codec::decode_lww(framed);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("inflate past the limit"), std::string::npos);
    // A real, well-compressing state still decodes.
    LwwElementSet<std::string> s;
    for (int i = 0; i < 2000; ++i)
        s.add("{\"id\":\"fz-" + std::to_string(i) + "\",\"region\":\"ME\"}",
              {HlcTimestamp::make(1000 + i, 0), 1});
    EXPECT_TRUE(codec::decode_lww(codec::encode(s, true)));
}
