// Messages with receipts in the store: each (peer, id) once, read back after a cursor, and the
// bounds (per peer, in all) keep the newest and count what went.
#include "store/mesh_store.hpp"
#include "util/numbered.hpp"

#include <gtest/gtest.h>

namespace f0::store {
namespace {

MeshStore open_store() {
    return MeshStore(Database::open(":memory:").value());
}

StoredMessage message(const std::string& peer, int i) {
    return {0, peer, util::numbered("m", i), 1000 + i, false, 1, "x"};
}

TEST(MessagesStore, EachIdOnceReadInOrderAndTheOldestGoBeyondTheBounds) {
    auto s = open_store();
    EXPECT_TRUE(s.add_message(message("a", 0)).value());
    EXPECT_FALSE(s.add_message(message("a", 0)).value()) << "the same (peer, id) is stored once";
    EXPECT_TRUE(s.add_message(message("b", 0)).value()) << "another peer's id is its own";
    EXPECT_EQ(s.prune_messages("a", 3, 5).value(), 0);
    for (int i = 1; i < 5; ++i) {
        ASSERT_TRUE(s.add_message(message("a", i)).value());
        (void)s.prune_messages("a", 3, 5).value();
    }
    auto a = s.messages("a", 0, 100).value();
    ASSERT_EQ(a.size(), 3u) << "3 per peer";
    EXPECT_EQ(a.front().id, "m2");
    EXPECT_EQ(a.back().id, "m4");
    // In all: b's 1 + a's 3 = 4; three of c's make 7, over 5: the two oldest in all go (b's, a's).
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(s.add_message(message("c", i)).value());
    EXPECT_EQ(s.prune_messages("c", 3, 5).value(), 2);
    auto all = s.messages("", 0, 100).value();
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all.front().peer, "a");
    EXPECT_EQ(all.front().id, "m3");
    // A cursor: only what follows a seq.
    auto after = s.messages("", all[2].seq, 100).value();
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after.front().seq, all[3].seq);
}

} // namespace
} // namespace f0::store
