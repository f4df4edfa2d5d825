#include "mesh/mesh_view.hpp"

#include "util/log.hpp"

namespace f0::mesh {

namespace {
const auto& view_log() {
    static const auto& l = log::forever("mesh.view");
    return l;
}
} // namespace

MeshView::MeshView(Clock& clock, LinkTable& links, GossipBridge& gossip, const PeerRegistry& peers,
                   Options options)
    : clock_(clock), links_(links), gossip_(gossip), peers_(peers), opt_(std::move(options)),
      book_(opt_.self, opt_.limits) {
    // Its own subscriptions (order among the links' subscribers does not matter: it only arms a
    // timer).
    links_.opened.subscribe([this](const std::string&) { links_changed(); });
    links_.down.subscribe([this](const std::string&, const std::string&) { links_changed(); });
}

void MeshView::links_changed() {
    if (soon_.armed())
        return;
    auto gap = std::max<std::int64_t>(1'000, opt_.interval.count() / 5);
    auto wait =
        std::max<std::int64_t>(opt_.settle.count(), last_published_ms_ + gap - clock_.unix_ms());
    soon_ = clock_.after(std::chrono::milliseconds(wait), [this] {
        ++counters_.on_change;
        publish();
    });
}

std::string MeshView::path_kind(const std::optional<LinkPath>& path) {
    if (!path)
        return "";
    if (path->relay())
        return "relay";
    for (const char* kind : {"srflx", "prflx"})
        if (path->local_type == kind || path->remote_type == kind)
            return kind;
    return path->local_type.empty() && path->remote_type.empty() ? "" : "host";
}

void MeshView::publish() {
    auto now = clock_.unix_ms();
    soon_.cancel(); // this summary carries the change
    last_published_ms_ = now;
    book_.expire(now);
    std::vector<gossip::LinkSummary> mine;
    for (const auto& [peer, link] : links_.all()) {
        if (link.state != LinkState::Open)
            continue;
        gossip::LinkSummary s{.peer = peer};
        if (const auto& q = link.last_qos) {
            s.rtt_ms = q->rtt_ms;
            s.jitter_ms = q->jitter_ms;
            s.loss_pct = q->loss_pct;
            s.tx_kbps = q->tx_kbps;
            s.rx_kbps = q->rx_kbps;
            s.health = q->health;
        }
        s.path = path_kind(link.path);
        mine.push_back(std::move(s));
    }
    auto payload = gossip::LinkStateBook::payload(std::move(mine), opt_.interval.count());
    if (auto m = gossip_.publish(std::string(gossip::LinkStateBook::kTopic), std::move(payload));
        !m) {
        ++counters_.publish_failed;
        F0_LOG_WARN(view_log(), "cannot publish this worker's link state: {}", m.error().message);
        return;
    }
    ++counters_.published;
}

bool MeshView::on_gossip(const gossip::GossipMessage& m) {
    if (m.topic != gossip::LinkStateBook::kTopic)
        return false;
    if (book_.on_message(m, clock_.unix_ms()) == gossip::LinkStateBook::Take::Invalid) {
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_INFO(view_log(), "link state from {} refused: {} ({} so far)", m.origin,
                        gossip::LinkStateBook::parse(m.payload).error().message, *n);
    }
    return true;
}

nlohmann::json MeshView::graph() const {
    auto now = clock_.unix_ms();
    auto g = book_.graph_json(now, [this](const std::string& id) {
        nlohmann::json j = nlohmann::json::object();
        if (const auto* p = peers_.find(id)) {
            j["region"] = p->region;
            if (p->lat && p->lon) {
                j["lat"] = *p->lat;
                j["lon"] = *p->lon;
            }
        }
        return j;
    });
    g["intervalMs"] = opt_.interval.count();
    g["expireMs"] = opt_.limits.expire_ms;
    return g;
}

} // namespace f0::mesh
