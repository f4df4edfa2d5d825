#include "mesh/gossip/link_state.hpp"

#include "mesh/identity/signed_envelope.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <utility>

namespace f0::mesh::gossip {

namespace {
constexpr double kMaxRttMs = 600'000, kMaxKbps = 100'000'000;
constexpr std::array kHealth{"good", "degraded", "bad", "unknown"};
constexpr std::array kPaths{"", "host", "srflx", "prflx", "relay"};

int health_rank(const std::string& h) { // worse is higher
    if (h == "bad")
        return 3;
    if (h == "degraded")
        return 2;
    if (h == "unknown")
        return 1;
    return 0;
}

// A pair's health is the worse of its ends' that know: an end without a sample yet ("unknown",
// as a link is in the summary sent soon after it opens) does not hide the other's word.
int pair_rank(const std::string& h) {
    return h == "unknown" ? 0 : 1 + health_rank(h);
}

double round1(double v) {
    return std::round(v * 10) / 10;
}

template <std::size_t N> bool one_of(const std::string& s, const std::array<const char*, N>& set) {
    return std::any_of(set.begin(), set.end(), [&](const char* x) { return s == x; });
}

// A whole number in [0, max], however it was built (a parsed one is unsigned, one built here from
// an int64_t is signed).
std::optional<std::uint64_t> count_in(const nlohmann::json& j, std::uint64_t max) {
    if (j.is_number_unsigned())
        return j.get<std::uint64_t>() <= max ? std::optional(j.get<std::uint64_t>()) : std::nullopt;
    if (j.is_number_integer() && j.get<std::int64_t>() >= 0)
        return count_in(nlohmann::json(j.get<std::uint64_t>()), max);
    return std::nullopt;
}

std::optional<double> number_in(const nlohmann::json& j, double max) {
    if (!j.is_number())
        return std::nullopt;
    double v = j.get<double>();
    if (!std::isfinite(v) || v < 0 || v > max)
        return std::nullopt;
    return v;
}

nlohmann::json end_json(const LinkSummary& l, const std::string& from) {
    return {{"from", from},
            {"rttMs", l.rtt_ms ? nlohmann::json(*l.rtt_ms) : nullptr},
            {"jitterMs", l.jitter_ms},
            {"lossPct", l.loss_pct},
            {"txKbps", l.tx_kbps},
            {"rxKbps", l.rx_kbps},
            {"health", l.health},
            {"path", l.path}};
}
} // namespace

LinkStateBook::LinkStateBook(std::string self, LinkStateLimits limits)
    : self_(std::move(self)), limits_(limits) {}

nlohmann::json LinkStateBook::payload(std::vector<LinkSummary> links, std::int64_t interval_ms) {
    auto open = links.size();
    if (links.size() > kMaxLinks) { // the worst ones, where the trouble is
        std::stable_sort(links.begin(), links.end(), [](const auto& a, const auto& b) {
            return health_rank(a.health) > health_rank(b.health);
        });
        links.resize(kMaxLinks);
    }
    auto l = nlohmann::json::array();
    std::size_t bytes = 64; // the object around l
    for (const auto& s : links) {
        nlohmann::json e{s.peer,
                         s.rtt_ms ? nlohmann::json(round1(*s.rtt_ms)) : nullptr,
                         round1(s.jitter_ms),
                         round1(s.loss_pct),
                         round1(s.tx_kbps),
                         round1(s.rx_kbps),
                         s.health,
                         s.path};
        bytes += e.dump().size() + 1;
        if (bytes > kMaxPayloadBytes) // long peer ids: fewer links fit
            break;
        l.push_back(std::move(e));
    }
    return {{"v", 1}, {"i", interval_ms}, {"n", open}, {"l", std::move(l)}};
}

Result<std::vector<LinkSummary>> LinkStateBook::parse(const nlohmann::json& p) {
    if (!p.is_object())
        return make_error("a link-state payload is an object");
    auto v = p.find("v"), l = p.find("l"), n = p.find("n"), i = p.find("i");
    if (v == p.end() || *v != 1)
        return make_error("field 'v' must be 1");
    if (l == p.end() || !l->is_array() || l->size() > kMaxLinks)
        return make_error("field 'l' must be an array of at most " + std::to_string(kMaxLinks) +
                          " links");
    auto open = n == p.end() ? std::nullopt : count_in(*n, 1'000'000);
    if (!open || *open < l->size())
        return make_error("field 'n' must count the open links (at least the entries sent)");
    if (i == p.end() || !count_in(*i, 86'400'000))
        return make_error("field 'i' must be the QoS interval in ms");
    std::vector<LinkSummary> out;
    out.reserve(l->size());
    std::set<std::string> seen;
    for (const auto& e : *l) {
        if (!e.is_array() || e.size() != 8 || !e[0].is_string() || !e[6].is_string() ||
            !e[7].is_string())
            return make_error("a link is [peer, rtt, jitter, loss, tx, rx, health, path]");
        LinkSummary s;
        s.peer = e[0].get<std::string>();
        if (!identity::valid_peer_id(s.peer) || !seen.insert(s.peer).second)
            return make_error("a link's peer must be a peer id, once per summary");
        if (!e[1].is_null() && !(s.rtt_ms = number_in(e[1], kMaxRttMs)))
            return make_error("a link's rtt must be null or 0-600000 ms");
        auto jit = number_in(e[2], kMaxRttMs), loss = number_in(e[3], 100),
             tx = number_in(e[4], kMaxKbps), rx = number_in(e[5], kMaxKbps);
        if (!jit || !loss || !tx || !rx)
            return make_error("a link's jitter, loss (0-100), tx and rx must be in range");
        s.jitter_ms = *jit;
        s.loss_pct = *loss;
        s.tx_kbps = *tx;
        s.rx_kbps = *rx;
        s.health = e[6].get<std::string>();
        s.path = e[7].get<std::string>();
        if (!one_of(s.health, kHealth) || !one_of(s.path, kPaths))
            return make_error("a link's health or path is not one of the known names");
        out.push_back(std::move(s));
    }
    return out;
}

LinkStateBook::Take LinkStateBook::on_message(const GossipMessage& m, std::int64_t now_ms) {
    auto links = parse(m.payload);
    if (!links) {
        ++counters_.invalid;
        return Take::Invalid;
    }
    auto instance = m.delegation ? m.delegation->instance : std::string();
    auto key = instance.empty() ? m.origin : m.origin + "/" + instance;
    auto it = held_.find(key);
    if (it != held_.end() && it->second.ts_ms >= m.ts_ms) {
        ++counters_.stale;
        return Take::Stale;
    }
    auto size = links.value().size();
    if (size > limits_.max_entries) { // larger than the whole bound: nothing is made room for it
        ++counters_.invalid;
        return Take::Invalid;
    }
    if (it != held_.end()) { // replaced: its links make room first
        entries_ -= it->second.links.size();
        it->second.links.clear();
    }
    while (!held_.empty() && ((it == held_.end() && held_.size() >= limits_.max_senders) ||
                              entries_ + size > limits_.max_entries)) {
        auto oldest =
            std::min_element(held_.begin(), held_.end(), [&](const auto& a, const auto& b) {
                // the one replaced now is not made room with
                return (a.first == key ? INT64_MAX : a.second.received_ms) <
                       (b.first == key ? INT64_MAX : b.second.received_ms);
            });
        if (oldest->first == key)
            break; // only the one being replaced is left
        entries_ -= oldest->second.links.size();
        held_.erase(oldest);
        ++counters_.evicted;
    }
    entries_ += size;
    auto& h = held_[key];
    h.origin = m.origin;
    h.instance = std::move(instance);
    h.ts_ms = m.ts_ms;
    h.received_ms = now_ms;
    h.interval_ms = static_cast<std::int64_t>(*count_in(m.payload["i"], 86'400'000));
    h.open = static_cast<std::size_t>(*count_in(m.payload["n"], 1'000'000));
    h.links = std::move(links.value());
    ++counters_.stored;
    return Take::Stored;
}

void LinkStateBook::expire(std::int64_t now_ms) {
    std::erase_if(held_, [&](const auto& kv) {
        if (now_ms - kv.second.received_ms <= limits_.expire_ms)
            return false;
        entries_ -= kv.second.links.size();
        ++counters_.expired;
        return true;
    });
}

bool LinkStateBook::holds(const std::string& sender, std::int64_t ts_ms) const {
    auto it = held_.find(sender);
    return it != held_.end() && it->second.ts_ms >= ts_ms;
}

nlohmann::json
LinkStateBook::graph_json(std::int64_t now_ms,
                          const std::function<nlohmann::json(const std::string&)>& about) const {
    struct Pair {
        std::string a, b;
        nlohmann::json ends = nlohmann::json::array();
        int worst = -1;
        std::string health;
    };
    std::map<std::string, nlohmann::json> nodes;
    std::map<std::pair<std::string, std::string>, Pair> pairs;
    std::size_t shown = 0;
    auto node = [&](const std::string& id) -> nlohmann::json& {
        auto [it, fresh] = nodes.try_emplace(id, nlohmann::json::object());
        if (fresh) {
            it->second = about ? about(id) : nlohmann::json::object();
            if (!it->second.is_object())
                it->second = nlohmann::json::object();
            it->second["id"] = id;
            it->second["self"] = id == self_;
            it->second["reported"] = false;
        }
        return it->second;
    };
    for (const auto& [sender, h] : held_) {
        if (now_ms - h.received_ms > limits_.expire_ms)
            continue; // expire() drops it; until then it is not shown
        ++shown;
        auto& n = node(h.origin);
        n["reported"] = true;
        auto entry = nlohmann::json{{"ts", h.ts_ms},
                                    {"ageMs", std::max<std::int64_t>(0, now_ms - h.received_ms)},
                                    {"intervalMs", h.interval_ms},
                                    {"linksOpen", h.open},
                                    {"linksSent", h.links.size()}};
        if (!h.instance.empty())
            entry["instance"] = h.instance;
        n["reports"].push_back(std::move(entry));
        for (const auto& l : h.links) {
            node(l.peer);
            auto k = std::minmax(h.origin, l.peer);
            auto& p = pairs[{k.first, k.second}];
            p.a = k.first;
            p.b = k.second;
            auto e = end_json(l, h.origin);
            if (!h.instance.empty())
                e["instance"] = h.instance;
            p.ends.push_back(std::move(e));
            if (pair_rank(l.health) > p.worst) {
                p.worst = pair_rank(l.health);
                p.health = l.health;
            }
        }
    }
    auto out_nodes = nlohmann::json::array(), out_links = nlohmann::json::array();
    for (auto& [id, n] : nodes)
        out_nodes.push_back(std::move(n));
    for (auto& [k, p] : pairs)
        out_links.push_back(
            {{"a", p.a}, {"b", p.b}, {"health", p.health}, {"ends", std::move(p.ends)}});
    return {{"self", self_},
            {"generatedMs", now_ms},
            {"senders", shown},
            {"nodes", std::move(out_nodes)},
            {"links", std::move(out_links)}};
}

} // namespace f0::mesh::gossip
