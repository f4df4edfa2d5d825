#include "mesh/links/receipts.hpp"

#include "util/base64.hpp"
#include "util/json_in.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <cstdio>

namespace f0::mesh {

namespace {
const auto& receipts_log() {
    static const auto& l = log::forever("mesh.receipts");
    return l;
}

// A frame is JSON of at most the body with escapes (6 bytes for one at worst): anything longer
// is not one of ours.
constexpr std::size_t kFrameOverhead = 256;

std::string random_id(Clock& clock) {
    char out[33];
    auto a = static_cast<unsigned long long>(clock.rng()());
    auto b = static_cast<unsigned long long>(clock.rng()());
    std::snprintf(out, sizeof out, "%016llx%016llx", a, b);
    return out;
}

nlohmann::json as_json(const store::StoredMessage& m) {
    nlohmann::json j{{"seq", m.seq},  {"peer", m.peer},   {"id", m.id},
                     {"ts", m.ts_ms}, {"bytes", m.bytes}, {"binary", m.binary}};
    j[m.binary ? "base64" : "text"] = m.body;
    return j;
}
} // namespace

Receipts::Receipts(Clock& clock, LinkTable& links, store::MeshStore& store, Limits limits)
    : clock_(clock), links_(links), store_(store), limits_(limits) {}

bool Receipts::valid_id(const std::string& id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

void Receipts::send(const std::string& peer, std::string body, bool binary, std::string id,
                    std::chrono::milliseconds timeout, OutcomeCallback done) {
    if (id.empty())
        id = random_id(clock_);
    if (!valid_id(id))
        return done(
            Error{Errc::BadRequest, "a message id is 1-64 characters of [A-Za-z0-9_-]", {}});
    if (body.size() > limits_.max_body)
        return done(Error{Errc::TooLarge,
                          "a message with a receipt is at most " +
                              std::to_string(limits_.max_body) + " bytes",
                          {}});
    if (pending_.count(id))
        return done(
            Error{Errc::BadRequest, "message '" + id + "' is already waiting for its receipt", {}});
    if (pending_.size() >= limits_.max_pending) {
        ++counters_.refused_busy;
        return done(Error{Errc::Busy,
                          std::to_string(pending_.size()) +
                              " messages are waiting for their receipts; try later",
                          {}});
    }
    if (timeout.count() <= 0)
        timeout = limits_.timeout;
    timeout = std::min(timeout, limits_.max_timeout);
    nlohmann::json frame{{"type", "f0.msg"}, {"id", id}};
    if (binary)
        frame["base64"] =
            base64_encode({reinterpret_cast<const std::uint8_t*>(body.data()), body.size()});
    else
        frame["text"] = body;
    if (auto st = links_.send(peer, "control", frame.dump(), false); !st)
        return done(Error{Errc::SendFailed, st.error().message, {}});
    ++counters_.sent;
    auto& p = pending_[id];
    p.peer = peer;
    p.bytes = body.size();
    p.binary = binary;
    p.done = std::move(done);
    p.timer = clock_.after(timeout, [this, id, timeout] {
        settle(id, Error{Errc::NotAcknowledged,
                         "no receipt for message '" + id + "' within " +
                             std::to_string(timeout.count()) +
                             " ms: it may or may not be stored; send it again with the same id",
                         {}});
    });
}

void Receipts::settle(const std::string& id, Outcome o) {
    auto it = pending_.find(id);
    if (it == pending_.end())
        return;
    auto done = std::move(it->second.done);
    if (ok(o)) {
        ++counters_.acked;
        o = nlohmann::json{{"sent", true},
                           {"acked", true},
                           {"id", id},
                           {"bytes", it->second.bytes},
                           {"binary", it->second.binary}};
    } else {
        ++counters_.not_acked;
    }
    pending_.erase(it); // cancels the timer
    if (done)
        done(std::move(o));
}

bool Receipts::on_control(const std::string& peer, const std::string& text) {
    if (text.size() > limits_.max_body * 6 + kFrameOverhead || text.empty() || text[0] != '{' ||
        text.find("\"type\":\"f0.") == std::string::npos)
        return false;
    auto frame = parse_untrusted(text);
    if (!frame.is_object())
        return false;
    auto type = frame.value("type", nlohmann::json());
    auto id = frame.value("id", nlohmann::json());
    if (!type.is_string() || !id.is_string())
        return false;
    const auto& t = type.get_ref<const std::string&>();
    const auto& i = id.get_ref<const std::string&>();
    if (t == "f0.msg") {
        receive(peer, frame);
        return true;
    }
    if (t != "f0.ack" && t != "f0.nack")
        return false;
    // Only the peer the message went to can settle it.
    if (auto it = pending_.find(i); it != pending_.end() && it->second.peer == peer) {
        if (t == "f0.ack") {
            settle(i, nlohmann::json::object());
        } else {
            auto why = frame.value("error", nlohmann::json());
            settle(i, Error{Errc::NotAcknowledged,
                            "the peer refused message '" + i +
                                "': " + (why.is_string() ? why.get<std::string>() : "no reason"),
                            {}});
        }
    }
    return true;
}

void Receipts::receive(const std::string& peer, const nlohmann::json& frame) {
    const auto& id = frame["id"].get_ref<const std::string&>();
    if (!valid_id(id)) {
        ++counters_.refused;
        return; // no id to answer to
    }
    auto text = frame.find("text");
    auto b64 = frame.find("base64");
    store::StoredMessage m{0, peer, id, clock_.unix_ms(), false, 0, {}};
    std::string bytes;
    if (text != frame.end() && text->is_string() && b64 == frame.end()) {
        m.body = text->get<std::string>();
        bytes = m.body;
    } else if (b64 != frame.end() && b64->is_string() && text == frame.end()) {
        auto raw = base64_decode(b64->get_ref<const std::string&>());
        if (!raw) {
            ++counters_.refused;
            return answer(peer, id, "bad_request");
        }
        m.binary = true;
        m.body = b64->get<std::string>();
        bytes.assign(raw.value().begin(), raw.value().end());
    } else {
        ++counters_.refused;
        return answer(peer, id, "bad_request");
    }
    m.bytes = static_cast<std::int64_t>(bytes.size());
    if (bytes.size() > limits_.max_body) {
        ++counters_.refused;
        return answer(peer, id, "too_large");
    }
    auto fresh = store_.add_message(m);
    if (!fresh) {
        ++counters_.refused;
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_WARN(receipts_log(), "cannot store message {} from {}: {} ({} so far)", id, peer,
                        fresh.error().message, *n);
        return answer(peer, id, "store");
    }
    if (!fresh.value()) {
        ++counters_.repeats; // stored before: its receipt was lost, or it came another way
        return answer(peer, id, nullptr);
    }
    ++counters_.stored;
    if (auto gone = store_.prune_messages(peer, limits_.keep_per_peer, limits_.keep_total); gone)
        counters_.evicted += static_cast<std::uint64_t>(gone.value());
    answer(peer, id, nullptr);
    links_.record_control(peer, bytes);
}

void Receipts::answer(const std::string& peer, const std::string& id, const char* error) {
    nlohmann::json frame{{"type", error ? "f0.nack" : "f0.ack"}, {"id", id}};
    if (error)
        frame["error"] = error;
    (void)links_.send(peer, "control", frame.dump(), false); // lost with the link: sent again
}

void Receipts::on_link_down(const std::string& peer) {
    std::vector<std::string> ids;
    for (const auto& [id, p] : pending_)
        if (p.peer == peer)
            ids.push_back(id);
    for (const auto& id : ids)
        settle(id, Error{Errc::NotAcknowledged,
                         "the link to '" + peer + "' went down before message '" + id +
                             "' was acknowledged: it may or may not be stored; send it again "
                             "with the same id",
                         {}});
}

Outcome Receipts::stored(const std::string& peer, std::int64_t after, std::int64_t limit) const {
    auto rows = store_.messages(peer, after, limit);
    if (!rows)
        return Error{Errc::Store, rows.error().message, {}};
    auto out = nlohmann::json::array();
    for (const auto& m : rows.value())
        out.push_back(as_json(m));
    return out;
}

void Receipts::stop() {
    std::vector<std::string> ids;
    for (const auto& [id, p] : pending_)
        ids.push_back(id);
    for (const auto& id : ids)
        settle(id, Error{Errc::Stopping, "the worker is stopping", {}});
}

} // namespace f0::mesh
