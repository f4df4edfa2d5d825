#include "mesh/links/link_table.hpp"

#include "util/base64.hpp"
#include "util/json_in.hpp"
#include "util/log.hpp"
#include "util/utf8.hpp"

#include <openssl/sha.h>

namespace f0::mesh {

namespace {
const auto& links_log() {
    static const auto& l = log::forever("mesh.links");
    return l;
}

std::string sha256_hex(std::string_view bytes) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), d);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : d) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}
} // namespace

LinkTable::LinkTable(Clock& clock, PeerLinkFactory& factory, store::MeshStore& store,
                     Options options, Notify notify)
    : clock_(clock), factory_(factory), store_(store), opt_(std::move(options)),
      notify_(std::move(notify)) {}

LinkTable::~LinkTable() {
    stop();
}

bool LinkTable::admit_control(Link& link) {
    double t = trust_of ? std::clamp(trust_of(link.peer), 0.0, 1.0) : 0.5;
    double rate = opt_.control_rate_min + (opt_.control_rate_max - opt_.control_rate_min) * t;
    double burst = std::max(1.0, rate * opt_.control_burst_s);
    auto now = clock_.steady_us() / 1000;
    if (link.control_tokens < 0)
        link.control_tokens = burst;
    else
        link.control_tokens =
            std::min(burst, link.control_tokens +
                                static_cast<double>(now - link.control_refill_ms) / 1000.0 * rate);
    link.control_refill_ms = now;
    if (link.control_tokens < 1) {
        if (counters_.control_rate_limited++ % 1000 == 0)
            F0_LOG_INFO(links_log(), "control messages from {} over {:.0f}/s dropped", link.peer,
                        rate);
        return false;
    }
    link.control_tokens -= 1;
    return true;
}

std::optional<Error> LinkTable::admit(const std::string& peer) {
    std::size_t live = 0, pending = 0;
    for (const auto& [id, l] : links_) {
        if (id == peer || l.state == LinkState::Failed || l.state == LinkState::Closed)
            continue;
        ++live;
        pending += l.state == LinkState::Dialing || l.state == LinkState::Connecting;
    }
    if (live >= opt_.max_links) {
        ++counters_.refused_total;
        return Error{Errc::Busy,
                     "this worker holds its maximum of " + std::to_string(opt_.max_links) +
                         " links (--max-links)",
                     {}};
    }
    if (pending >= opt_.max_pending) {
        ++counters_.refused_pending;
        return Error{Errc::Busy,
                     std::to_string(pending) +
                         " links are being set up here already (--max-pending-links); try again",
                     {}};
    }
    return std::nullopt;
}

Link& LinkTable::create(const std::string& peer, const std::string& role) {
    std::int64_t attempts = 0;
    if (auto it = links_.find(peer); it != links_.end()) {
        attempts = it->second.attempts;
        if (it->second.pc)
            it->second.pc->close();
    }
    Link& link = links_[peer];
    link = Link{};
    link.peer = peer;
    link.role = role;
    link.state = role == "dialer" ? LinkState::Dialing : LinkState::Connecting;
    link.created_ms = clock_.unix_ms();
    link.attempts = attempts;
    link.generation = next_generation_++;
    link.qos = std::make_shared<qos::QosProbe>(opt_.qos_probe_size);
    ++counters_.created;

    auto gen = link.generation;
    PeerLink::Handlers h;
    h.state = [this, peer, gen](rtc::PeerState s) { on_state(peer, gen, s); };
    h.channel = [this, peer, gen](const std::string& label, bool open) {
        on_channel(peer, gen, label, open);
    };
    h.message = [this, peer, gen](const std::string& label, std::string bytes) {
        Link* l = current(peer, gen);
        if (!l)
            return;
        if (label == "control" && !admit_control(*l))
            return;
        message(peer, label, bytes);
    };
    h.gathered = [this, peer, gen] { on_gathered(peer, gen); };
    // Probes are answered and echoes timed on the transport thread: no hop to the control plane
    // inside the measured path. Only the probe engine (thread-safe) and the clock are touched.
    h.inline_message = [engine = link.qos, &clock = clock_](const std::string& label,
                                                            std::span<const std::uint8_t> d,
                                                            const PeerLink::Reply& reply) {
        if (label != kQosLabel)
            return false;
        if (auto echo = engine->on_message(d, clock.steady_us()))
            reply(*echo);
        return true;
    };
    h.accept_channel = [refused = channels_refused_](const std::string& label) {
        for (const auto& spec : link_channels())
            if (label == spec.label)
                return true;
        ++*refused;
        return false;
    };
    link.pc = factory_.create(std::move(h));
    return link;
}

Link* LinkTable::find(const std::string& peer) {
    auto it = links_.find(peer);
    return it == links_.end() ? nullptr : &it->second;
}

const Link* LinkTable::find(const std::string& peer) const {
    auto it = links_.find(peer);
    return it == links_.end() ? nullptr : &it->second;
}

Link* LinkTable::current(const std::string& peer, std::uint64_t gen) {
    auto* l = find(peer);
    return l && l->generation == gen ? l : nullptr;
}

void LinkTable::erase(const std::string& peer) {
    links_.erase(peer);
}

void LinkTable::wait(const std::string& peer, OutcomeCallback done) {
    waiters_[peer].push_back(std::move(done));
}

void LinkTable::when_gathered(const std::string& peer, std::uint64_t gen,
                              std::function<void()> then) {
    Link* link = current(peer, gen);
    if (!link)
        return;
    if (link->pc->gathering_complete())
        return then();
    link->on_gathered.push_back(std::move(then));
    if (!link->gather_timer.armed())
        link->gather_timer =
            clock_.after(opt_.gather_limit, [this, peer, gen] { on_gathered(peer, gen); });
}

void LinkTable::on_gathered(const std::string& peer, std::uint64_t gen) {
    Link* link = current(peer, gen);
    if (!link)
        return;
    link->gather_timer.cancel();
    auto waiting = std::move(link->on_gathered);
    link->on_gathered.clear();
    for (auto& fn : waiting)
        fn(); // may replace the link: touch nothing of it after this
}

void LinkTable::arm_dial_timeout(const std::string& peer, std::uint64_t gen) {
    Link* link = current(peer, gen);
    if (!link)
        return;
    link->dial_timer = clock_.after(opt_.dial_timeout, [this, peer, gen] {
        Link* l = current(peer, gen);
        if (l && l->state != LinkState::Open) {
            auto hint = l->pc ? l->pc->ice_hint() : std::string();
            fail(peer, "no open link within " + std::to_string(opt_.dial_timeout.count()) + " ms" +
                           (hint.empty() ? "" : " (ICE has no working pair: " + hint + ")"));
        }
    });
}

void LinkTable::on_state(const std::string& peer, std::uint64_t gen, rtc::PeerState s) {
    Link* link = current(peer, gen);
    if (!link || stopped_) // stopping: our own closes, the links stay desired for the restart
        return;
    if (s == rtc::PeerState::Failed) {
        auto why = link->pc ? link->pc->failure_reason() : std::string();
        fail(peer,
             why.empty() ? "the WebRTC connection failed" : "the WebRTC connection failed: " + why);
    } else if (s == rtc::PeerState::Closed && link->state != LinkState::Closed &&
               link->state != LinkState::Failed)
        closed_by_peer(peer); // our own closes mark the link before its connection closes
}

void LinkTable::closed_by_peer(const std::string& peer) {
    Link* link = find(peer);
    if (!link || link->state == LinkState::Failed || link->state == LinkState::Closed)
        return;
    const std::string why = "closed by the peer";
    F0_LOG_INFO(links_log(), "link to {} {}", peer, why);
    ++counters_.closed_by_peer;
    link->state = LinkState::Closed;
    link->closed_by = "peer";
    link->last_error = why;
    link->closed_ms = clock_.unix_ms();
    link->dial_timer.cancel();
    link->gather_timer.cancel();
    link->on_gathered.clear();
    redial_.erase(peer);
    if (link->pc) {
        link->pc->close();
        std::shared_ptr<PeerLink> held(std::move(link->pc)); // released on the next turn
        clock_.post([held] {});
    }
    link->open_channels.clear();
    // A link we dialled stays wanted (the peer may be restarting): redialled with backoff, as
    // after a failure; one the peer dialled is its to redial. Scheduled before the event, which
    // then says when.
    if (link->desired && !stopped_)
        schedule_redial(peer);
    changed(*link);
    settle(peer, Error{Errc::Closed, "the peer closed the link", {}});
    down(peer, why);
}

void LinkTable::on_channel(const std::string& peer, std::uint64_t gen, const std::string& label,
                           bool open) {
    Link* link = current(peer, gen);
    if (!link)
        return;
    if (open)
        link->open_channels.insert(label);
    else
        link->open_channels.erase(label);
    if (link->state == LinkState::Open || !link->all_channels_open())
        return;
    link->state = LinkState::Open;
    link->opened_ms = clock_.unix_ms();
    link->next_redial_ms.reset();
    link->path = link->pc->path();
    link->attempts = 0;
    link->last_error.clear();
    link->dial_timer.cancel();
    auto [tx, rx] = link->pc->wire_bytes();
    (void)link->qos->take_report(clock_.steady_us(), tx, rx); // the first interval starts now
    ++counters_.opened;
    F0_LOG_INFO(links_log(), "link to {} open ({} ms)", peer, *link->opened_ms - link->created_ms);
    changed(*link);
    auto hello = nlohmann::json{{"type", "hello"}, {"from", opt_.self}}.dump();
    (void)link->pc->send("control", hello, false);
    settle(peer, std::nullopt);
    opened(peer);
}

void LinkTable::fail(const std::string& peer, const std::string& why) {
    Link* link = find(peer);
    if (!link || link->state == LinkState::Failed || link->state == LinkState::Closed)
        return;
    F0_LOG_INFO(links_log(), "link to {} failed: {}", peer, why);
    if (link->role == "dialer" && !link->opened_ms)
        ++counters_.dials_failed;
    ++counters_.failed;
    link->state = LinkState::Failed;
    link->last_error = why;
    link->closed_ms = clock_.unix_ms();
    ++link->attempts;
    link->dial_timer.cancel();
    link->gather_timer.cancel();
    link->on_gathered.clear();
    if (link->pc) {
        link->pc->close();
        // Its ICE agent, sockets and buffers go now, not when the peer next dials (never, for a
        // failed accepter): released on the next turn, outside whatever called us.
        std::shared_ptr<PeerLink> held(std::move(link->pc));
        clock_.post([held] {});
    }
    link->open_channels.clear();
    if (link->desired && !stopped_)
        schedule_redial(peer); // before the event, which then says when
    changed(*link);
    settle(peer, Error{Errc::DialFailed, why, {}});
    down(peer, why);
}

void LinkTable::settle(const std::string& peer, const std::optional<Error>& err) {
    auto w = waiters_.find(peer);
    if (w == waiters_.end())
        return;
    auto callbacks = std::move(w->second);
    waiters_.erase(w);
    const Link* link = find(peer);
    for (auto& cb : callbacks) {
        if (err || !link)
            cb(err ? *err : Error{Errc::DialFailed, "the link is gone", {}});
        else
            cb(link->to_json());
    }
}

void LinkTable::schedule_redial(const std::string& peer) {
    Link* link = find(peer);
    if (!link)
        return;
    auto attempts = std::min<std::int64_t>(link->attempts, 16);
    auto factor = std::int64_t{1} << std::max<std::int64_t>(0, attempts - 1);
    auto base = std::min<std::chrono::milliseconds>(opt_.redial_max, opt_.redial_min * factor);
    auto delay = base / 2 + std::chrono::milliseconds(clock_.uniform(0, base.count() / 2));
    F0_LOG_INFO(links_log(), "redialling {} in {} ms (attempt {})", peer, delay.count(),
                attempts + 1);
    link->next_redial_ms = clock_.unix_ms() + delay.count();
    redial_[peer] = clock_.after(delay, [this, peer] {
        redial_.erase(peer);
        Link* l = find(peer);
        if (stopped_ || !l || !l->desired || l->state == LinkState::Open)
            return;
        ++counters_.redials;
        redial_due(peer);
    });
}

Outcome LinkTable::close(const std::string& peer) {
    auto it = links_.find(peer);
    if (it == links_.end())
        return Error{Errc::NoLink, "there is no link to '" + peer + "'", {}};
    Link& link = it->second;
    link.desired = false;
    if (link.pc)
        link.pc->close();
    link.state = LinkState::Closed;
    link.closed_by = "operator";
    link.closed_ms = clock_.unix_ms();
    link.next_redial_ms.reset();
    redial_.erase(peer);
    settle(peer, Error{Errc::Closed, "the link was closed while dialling", {}});
    auto view = link.to_json();
    if (notify_)
        notify_("link", view);
    (void)store_.remove_link(peer);
    links_.erase(it);
    down(peer, "closed by the operator");
    return view;
}

void LinkTable::changed(const Link& link) {
    store::LinkRecord r;
    r.peer = link.peer;
    r.state = std::string(to_string(link.state));
    r.role = link.role;
    r.desired = link.desired;
    r.created_ms = link.created_ms;
    r.opened_ms = link.opened_ms;
    r.closed_ms = link.closed_ms;
    r.last_error = link.last_error;
    r.attempts = link.attempts;
    if (auto st = store_.upsert_link(r); !st)
        F0_LOG_ERROR(links_log(), "cannot store link {}: {}", link.peer, st.error().message);
    if (notify_)
        notify_("link", link.to_json());
}

Status LinkTable::send(const std::string& peer, const std::string& label, std::string_view bytes,
                       bool binary) {
    Link* link = find(peer);
    if (!link || link->state != LinkState::Open)
        return make_error("there is no open link to '" + peer + "'");
    return link->pc->send(label, bytes, binary);
}

void LinkTable::record_control(const std::string& peer, const std::string& text) {
    Link* link = find(peer);
    if (!link)
        return;
    nlohmann::json message;
    if (text.size() > opt_.keep_bytes) {
        // A peer may send up to the channel's message size (256 KiB) many times a second: a
        // hundred of those per link, on every link, is not what an inbox is for.
        ++counters_.control_too_large;
        message = {{"omitted", "too large"}, {"bytes", text.size()}};
    } else if (!valid_utf8(text)) {
        // Bytes, not text: shown as base64, never put into JSON as a string.
        ++counters_.control_not_utf8;
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_INFO(links_log(),
                        "control message from {} is not UTF-8 ({} bytes); kept as base64 ({} so "
                        "far)",
                        peer, text.size(), *n);
        message = {{"base64", base64_encode({reinterpret_cast<const std::uint8_t*>(text.data()),
                                             text.size()})}};
    } else {
        auto msg = parse_untrusted(text);
        message = msg.is_discarded() ? nlohmann::json(text) : msg;
    }
    // Every message's size and SHA-256, kept or not: what arrived can be checked byte for byte.
    nlohmann::json entry{{"ts", clock_.unix_ms()},
                         {"bytes", text.size()},
                         {"sha256", sha256_hex(text)},
                         {"message", message}};
    auto bytes =
        std::min(text.size(), opt_.keep_bytes) * 4 / 3 + 160; // as kept (base64 at worst), digest
    link->inbox.emplace_back(entry, bytes);
    link->inbox_bytes += bytes;
    while (link->inbox.size() > opt_.inbox_limit ||
           (link->inbox.size() > 1 && link->inbox_bytes > opt_.inbox_bytes)) {
        link->inbox_bytes -= link->inbox.front().second;
        link->inbox.pop_front();
    }
    if (notify_)
        notify_("control", {{"peer", peer}, {"message", entry["message"]}});
}

void LinkTable::stop() {
    stopped_ = true;
    redial_.clear();
    for (auto& [peer, link] : links_)
        if (link.pc)
            link.pc->close();
    links_.clear();
}

std::vector<std::string> LinkTable::open_peers() const {
    std::vector<std::string> out;
    for (const auto& [peer, link] : links_)
        if (link.state == LinkState::Open)
            out.push_back(peer);
    return out;
}

nlohmann::json LinkTable::to_json() const {
    auto out = nlohmann::json::array();
    for (const auto& [peer, link] : links_)
        out.push_back(link.to_json());
    return out;
}

} // namespace f0::mesh
