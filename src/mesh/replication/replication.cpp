#include "mesh/replication/replication.hpp"

#include "crdt/codec.hpp"
#include "mesh/identity/signed_envelope.hpp"
#include "mesh/peers/peer_record.hpp"
#include "util/base64.hpp"
#include "util/json_in.hpp"
#include "util/log.hpp"

#include <openssl/sha.h>

namespace f0::mesh {

namespace {
const auto& replication_log() {
    static const auto& l = log::forever("mesh.crdt");
    return l;
}
constexpr std::string_view kRegistryTopic = "crdt/registry";
constexpr std::string_view kListTopic = "crdt/list/";
constexpr std::size_t kPieceBytes = 64 * 1024;      // anti-entropy pieces stay far below 256 KiB
constexpr std::size_t kGossipPieceBytes = 8 * 1024; // of elements: < 16 KiB payload even as base64
constexpr std::size_t kGossipPiecesPerTick = 8;
constexpr std::int64_t kSyncAnswerGapMs = 250; // crdt.sync answers per peer: 4/s at most
constexpr std::size_t kLearnedLogged = 10;     // "learned peer" lines per update, then a count

std::string b64(const std::string& bytes) {
    return base64_encode({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}
std::optional<std::string> unb64(const nlohmann::json& j) {
    if (!j.is_string())
        return std::nullopt;
    auto raw = base64_decode(j.get<std::string>());
    if (!raw)
        return std::nullopt;
    return std::string(raw.value().begin(), raw.value().end());
}

std::optional<store::PeerRecord> parse_element(const std::string& s) {
    auto j = parse_untrusted(s);
    auto r = peer_record_from_json(j);
    if (auto* p = std::get_if<store::PeerRecord>(&r))
        return *p;
    return std::nullopt;
}

std::optional<SignedRecord> parse_signed(const std::string& s) {
    if (s.size() > kMaxSignedRecordBytes)
        return std::nullopt;
    auto r = signed_record_from_json(parse_untrusted(s));
    if (auto* p = std::get_if<SignedRecord>(&r))
        return std::move(*p);
    return std::nullopt;
}

constexpr std::string_view kRegistrarsDoc = "registrars";

crdt::LwwElementSet<std::string> from_rows(const std::vector<store::RegistryRow>& rows) {
    crdt::LwwElementSet<std::string> s;
    for (const auto& r : rows) {
        crdt::LwwElementSet<std::string>::Entry e;
        if (r.add_ts && r.add_replica)
            e.add = crdt::Stamp{{*r.add_ts}, *r.add_replica};
        if (r.remove_ts && r.remove_replica)
            e.remove = crdt::Stamp{{*r.remove_ts}, *r.remove_replica};
        s.put(r.element, e);
    }
    return s;
}

crdt::ReplicaId replica_of(const std::string& id) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), d);
    crdt::ReplicaId r = 0;
    for (int i = 0; i < 8; ++i)
        r = (r << 8) | d[i];
    return r;
}

// A boolean field, false when absent or of another type (value() would throw on a wrong type).
bool flag(const nlohmann::json& m, const char* key) {
    auto it = m.find(key);
    return it != m.end() && it->is_boolean() && it->get<bool>();
}

using Summary = std::map<crdt::ReplicaId, std::map<std::uint64_t, std::uint64_t>>;

nlohmann::json summary_json(const Summary& s) {
    auto out = nlohmann::json::object();
    for (const auto& [rep, ranges] : s) {
        auto arr = nlohmann::json::array();
        for (const auto& [lo, hi] : ranges)
            arr.push_back({lo, hi});
        out[std::to_string(rep)] = arr;
    }
    return out;
}

std::optional<Summary> summary_from_json(const nlohmann::json& j) {
    Summary s;
    if (!j.is_object())
        return std::nullopt;
    for (const auto& [rep, ranges] : j.items()) {
        std::uint64_t r = 0;
        try {
            std::size_t used = 0;
            r = std::stoull(rep, &used);
            if (used != rep.size())
                return std::nullopt;
        } catch (...) {
            return std::nullopt;
        }
        if (!ranges.is_array())
            return std::nullopt;
        for (const auto& range : ranges) {
            if (!range.is_array() || range.size() != 2 || !range[0].is_number_unsigned() ||
                !range[1].is_number_unsigned())
                return std::nullopt;
            s[r][range[0].get<std::uint64_t>()] = range[1].get<std::uint64_t>();
        }
    }
    return s;
}
} // namespace

bool valid_list_name(const std::string& n) {
    if (n.empty() || n.size() > 48)
        return false;
    for (unsigned char c : n)
        if (!std::isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    return true;
}

Replication::Replication(Clock& clock, store::MeshStore& store, PeerRegistry& peers,
                         LinkTable& links, Options options, Notify notify)
    : clock_(clock), store_(store), peers_(peers), links_(links), opt_(std::move(options)),
      notify_(std::move(notify)), trusted_(opt_.registrars), replica_id_(replica_of(opt_.self)),
      hlc_(opt_.max_offset.count()),
      registry_(opt_.registry, [this](const std::string& e) { return admit(e); }) {
    if (!opt_.self_key.empty())
        trusted_[opt_.self] = opt_.self_key;
}

// An element must be a signed, countersigned record in its one canonical form (RFC 8785, endpoint
// without a trailing '/': two texts of one record would be two elements) from a trusted registrar.
std::optional<RegistryState::Info> Replication::admit(const std::string& e) const {
    auto r = parse_signed(e);
    if (!r || !r->reg || signed_record_canonical(*r) != e)
        return std::nullopt;
    auto t = trusted_.find(r->reg->by);
    if (t == trusted_.end() || t->second != r->reg->key)
        return std::nullopt;
    return RegistryState::Info{r->peer.id, r->peer.pub_key, r->reg->at, r->ts};
}

void Replication::take(const SignedRecord& r, const identity::Identity& registrar) {
    if (!r.is_signed() || holds(r))
        return;
    auto c = r;
    countersign(c, opt_.self, registrar, clock_.unix_ms());
    put(c);
    flush(); // stored before /beacon answers: nothing acknowledged is lost
}

bool Replication::trust_registrar(const std::string& id, const std::string& key) {
    auto [it, fresh] = trusted_.try_emplace(id, key);
    if (!fresh) {
        if (it->second != key) {
            static log::Sampled sampled;
            if (auto n = sampled.next())
                F0_LOG_WARN(replication_log(),
                            "registrar {} now shows key {}, but it is trusted with {}: its "
                            "registrations with the new key stay refused ({} so far)",
                            id, key, it->second, *n);
        }
        return it->second == key;
    }
    F0_LOG_INFO(replication_log(), "trusting {} as a registrar (key {})", id, key);
    auto doc = nlohmann::json::object();
    for (const auto& [rid, rkey] : trusted_)
        if (rid != opt_.self && !opt_.registrars.count(rid))
            doc[rid] = rkey;
    if (auto st = store_.put_crdt(std::string(kRegistrarsDoc), b64(doc.dump()), clock_.unix_ms());
        !st)
        F0_LOG_WARN(replication_log(), "cannot store the trusted registrars: {}",
                    st.error().message);
    return true;
}

bool Replication::holds(const SignedRecord& r) const {
    auto cur = registry_.current(r.peer.id);
    if (!cur)
        return false;
    auto have = parse_untrusted(*cur); // admitted: verified already
    return have.is_object() && have.value("sig", nlohmann::json()) == r.sig &&
           have.value("pubKey", nlohmann::json()) == r.peer.pub_key;
}

Replication::~Replication() {
    stop();
}

crdt::Rga<std::string>& Replication::list_ref(const std::string& name) {
    auto& l = lists_[name];
    if (!l)
        l = std::make_unique<crdt::Rga<std::string>>(replica_id_);
    return *l;
}

Status Replication::load() {
    auto docs = store_.crdt_docs();
    if (!docs)
        return docs.error();
    for (const auto& [name, text] : docs.value()) {
        auto bytes = unb64(text);
        if (!bytes) {
            F0_LOG_WARN(replication_log(), "stored CRDT '{}' is not base64; skipped", name);
            continue;
        }
        if (name == kRegistrarsDoc) { // our beacon(s), pinned when first seen
            auto doc = parse_untrusted(*bytes);
            if (doc.is_object())
                for (const auto& [rid, rkey] : doc.items())
                    if (rkey.is_string() && identity::valid_peer_id(rid) &&
                        identity::parse_public_key(rkey.get<std::string>()))
                        trusted_.try_emplace(rid, rkey.get<std::string>());
        } else if (name == "registry") {
            // Written by versions that stored the registry whole: moved into registry_entries.
            auto s = crdt::codec::decode_lww(*bytes);
            if (s)
                record(registry_.merge(s.value()));
            else
                F0_LOG_WARN(replication_log(), "stored registry unreadable: {}", s.error().message);
            drop_legacy_doc_ = true;
        } else if (name.starts_with("list/")) {
            auto d = crdt::codec::decode_list(*bytes);
            auto& l = list_ref(name.substr(5));
            if (!d || !l.load(d.value()))
                F0_LOG_WARN(replication_log(), "stored list '{}' unreadable; starting it empty",
                            name);
        }
    }
    auto rows = store_.registry_rows();
    if (!rows)
        return rows.error();
    auto loaded = registry_.merge(from_rows(rows.value()));
    if (loaded.refused + loaded.conflicts.size())
        F0_LOG_WARN(replication_log(),
                    "{} stored registry elements refused and deleted (unsigned records of older "
                    "versions, registrars no longer trusted, lost ids, or over the cap)",
                    loaded.refused + loaded.conflicts.size());
    for (const auto& e : loaded.erased) // over the per-id cap as stored
        registry_erased_.insert(e);
    for (const auto& r : rows.value()) // not admitted: not kept in the store either
        if (!registry_.contains(r.element))
            registry_erased_.insert(r.element);
    if (drop_legacy_doc_ || !registry_erased_.empty())
        dirty("registry");
    // Stamps only move forward from what we held.
    auto now = clock_.unix_ms();
    for (const auto& [e, entry] : registry_.set().entries()) {
        for (const auto& st : {entry.add, entry.remove})
            if (st)
                (void)hlc_.receive(st->ts, std::max<std::int64_t>(now, static_cast<std::int64_t>(
                                                                           st->ts.physical_ms())));
    }
    F0_LOG_INFO(replication_log(), "registry of {} elements, {} lists", registry_.size(),
                lists_.size());
    return Ok{};
}

void Replication::start() {
    sync_timer_ = clock_.after(opt_.sync_interval, [this] {
        auto open = links_.open_peers();
        if (!open.empty())
            send_sync(open[static_cast<std::size_t>(
                clock_.uniform(0, static_cast<std::int64_t>(open.size()) - 1))]);
        start();
    });
}

void Replication::stop() {
    sync_timer_.cancel();
    publish_timer_.cancel();
    pending_sync_.clear();
    flush();
}

void Replication::dirty(const std::string& doc) {
    dirty_.insert(doc);
    if (!save_timer_.armed())
        save_timer_ = clock_.after(opt_.save_delay, [this] { flush(); });
}

void Replication::record(const RegistryState::Changes& ch) {
    for (const auto& e : ch.changed) {
        registry_changed_.insert(e);
        registry_erased_.erase(e);
    }
    for (const auto& e : ch.erased) {
        registry_erased_.insert(e);
        registry_changed_.erase(e);
    }
    if (ch.any())
        dirty("registry");
}

void Replication::flush() {
    save_timer_.cancel();
    for (const auto& doc : dirty_) {
        std::string bytes;
        if (doc == "registry") {
            std::vector<store::RegistryRow> rows;
            rows.reserve(registry_changed_.size());
            for (const auto& e : registry_changed_) {
                const auto* entry = registry_.entry(e);
                if (!entry)
                    continue;
                store::RegistryRow r{e, {}, {}, {}, {}};
                if (entry->add) {
                    r.add_ts = entry->add->ts.raw;
                    r.add_replica = entry->add->replica;
                }
                if (entry->remove) {
                    r.remove_ts = entry->remove->ts.raw;
                    r.remove_replica = entry->remove->replica;
                }
                rows.push_back(std::move(r));
            }
            std::vector<std::string> erased(registry_erased_.begin(), registry_erased_.end());
            if (auto st = store_.put_registry(rows, erased); !st) {
                F0_LOG_WARN(replication_log(), "cannot store the registry: {}", st.error().message);
                continue; // kept dirty for the next save
            }
            registry_changed_.clear();
            registry_erased_.clear();
            if (drop_legacy_doc_ && store_.delete_crdt("registry"))
                drop_legacy_doc_ = false;
            continue;
        }
        if (auto it = lists_.find(doc.substr(5)); doc.starts_with("list/") && it != lists_.end())
            bytes = crdt::codec::encode(it->second->state());
        else
            continue;
        if (auto st = store_.put_crdt(doc, b64(bytes), clock_.unix_ms()); !st)
            F0_LOG_WARN(replication_log(), "cannot store {}: {}", doc, st.error().message);
    }
    dirty_.clear();
}

void Replication::put(const SignedRecord& r, bool publish) {
    auto rec = signed_record_canonical(r);
    if (registry_.contains(rec))
        return;
    crdt::Stamp st{hlc_.now(clock_.unix_ms()), replica_id_};
    RegistryState::Changes ch;
    auto delta = registry_.put(rec, st, ch);
    record(ch);
    report(ch, opt_.self);
    if (!ch.changed.count(rec)) {
        if (ch.conflicts.empty())
            F0_LOG_WARN(replication_log(),
                        "record of {} not replicated: not admitted, or the registry is full ({} "
                        "elements)",
                        r.peer.id, registry_.size());
        return;
    }
    if (!publish)
        return;
    unpublished_.merge(delta);
    // The first change goes out at once; changes that follow within publish_delay go together.
    if (!publish_timer_.armed())
        publish_registry();
}

void Replication::publish_registry() {
    if (unpublished_.entries().empty() || !publish_)
        return;
    // In pieces that fit a gossip payload (16 KiB of JSON), a few per tick so that a burst of
    // registrations stays within what receivers accept from one sender; the rest go on the next
    // ticks (and anti-entropy carries everything anyway).
    crdt::LwwElementSet<std::string> rest;
    rest.set_horizon(unpublished_.horizon());
    std::vector<crdt::LwwElementSet<std::string>> pieces;
    std::size_t bytes = 0;
    for (const auto& [e, entry] : unpublished_.entries()) {
        if (pieces.empty() || bytes + e.size() + 40 > kGossipPieceBytes) {
            if (pieces.size() == kGossipPiecesPerTick) {
                rest.put(e, entry);
                continue;
            }
            pieces.emplace_back();
            pieces.back().set_horizon(unpublished_.horizon());
            bytes = 0;
        }
        pieces.back().put(e, entry);
        bytes += e.size() + 40;
    }
    unpublished_ = std::move(rest);
    publish_timer_ = clock_.after(opt_.publish_delay, [this] { publish_registry(); });
    for (const auto& piece : pieces)
        if (auto s =
                publish_(std::string(kRegistryTopic), {{"delta", b64(crdt::codec::encode(piece))}});
            !s)
            F0_LOG_WARN(replication_log(), "cannot gossip the registry: {}", s.error().message);
}

bool Replication::adopt_stamps(const crdt::LwwElementSet<std::string>& s, const std::string& from) {
    auto now = clock_.unix_ms();
    for (const auto& [e, entry] : s.entries())
        for (const auto& st : {entry.add, entry.remove})
            if (st)
                if (auto r = hlc_.receive(st->ts, now); !r) {
                    ++rejected_;
                    static log::Sampled sampled;
                    if (auto n = sampled.next())
                        F0_LOG_WARN(replication_log(),
                                    "registry update from {} refused: {} ({} so far)", from,
                                    r.error().message, *n);
                    return false;
                }
    return true;
}

void Replication::report(const RegistryState::Changes& ch, const std::string& from) {
    static log::Sampled sampled;
    for (const auto& [id, key] : ch.conflicts) {
        if (auto n = sampled.next())
            F0_LOG_WARN(replication_log(),
                        "registry conflict: {} is bound to the key of its first registration; key "
                        "{} (registered later) loses it (update via {}; {} so far)",
                        id, key, from, *n);
        if (notify_)
            notify_("registry.conflict", {{"id", id}, {"key", key}, {"via", from}});
    }
}

void Replication::on_registry(const crdt::LwwElementSet<std::string>& delta,
                              const std::string& from) {
    if (!adopt_stamps(delta, from))
        return;
    auto ch = registry_.merge(delta);
    record(ch);
    report(ch, from);
    rejected_ += ch.refused + ch.tombstones;
    // For each peer the update touched, the owner's latest record is what this worker uses.
    std::vector<store::PeerRecord> learned;
    for (const auto& id : ch.ids) {
        if (id == opt_.self)
            continue;
        auto best = registry_.current(id);
        if (!best)
            continue;
        auto p = parse_element(*best);
        if (!p)
            continue;
        const auto* have = peers_.find(id);
        if (have && have->pub_key == p->pub_key && have->endpoint == p->endpoint &&
            have->region == p->region && have->lat == p->lat && have->lon == p->lon)
            continue;
        p->registered_ms = p->updated_ms = clock_.unix_ms();
        p->signed_ts = current_ts(id).value_or(0);
        if (have && have->pub_key != p->pub_key) {
            // Bound here locally (registered here while this worker did not know the mesh's first
            // registration): the mesh-wide decision wins, so that every worker agrees.
            ++rebinds_;
            static log::Sampled rebound;
            if (auto n = rebound.next())
                F0_LOG_WARN(replication_log(),
                            "peer {} was bound here to key {}; the mesh's first registration binds "
                            "it to {}: using that ({} so far)",
                            id, have->pub_key, p->pub_key, *n);
            if (auto err = peers_.rebind(*p)) {
                ++rejected_;
                continue;
            }
            // A link set up with the old key was not with the id's holder.
            links_.fail(id, "the id's key changed: the mesh binds it to its first registration");
        } else if (auto err = peers_.add(*p, false)) {
            ++rejected_;
            static log::Sampled sampled;
            if (auto n = sampled.next())
                F0_LOG_INFO(replication_log(),
                            "registry record for {} from {} refused: {} ({} so far)", id, from,
                            err->detail, *n);
            continue;
        }
        learned.push_back(*peers_.find(id));
        if (learned.size() <= kLearnedLogged)
            F0_LOG_INFO(replication_log(), "learned peer {} from {}", id, from);
        if (notify_)
            notify_("peer", {{"id", id}, {"region", p->region}, {"via", from}});
    }
    if (learned.size() > kLearnedLogged)
        F0_LOG_INFO(replication_log(), "learned {} more peers from {}",
                    learned.size() - kLearnedLogged, from);
    if (auto st = store_.upsert_peers(learned); !st)
        F0_LOG_WARN(replication_log(), "cannot store {} learned peers: {}", learned.size(),
                    st.error().message);
}

void Replication::on_gossip(const gossip::GossipMessage& m, const std::string& from) {
    if (m.origin == opt_.self || !m.payload.is_object())
        return;
    auto bytes = unb64(m.payload.value("delta", nlohmann::json()));
    if (!bytes) {
        ++rejected_;
        return;
    }
    if (m.topic == kRegistryTopic) {
        auto d = crdt::codec::decode_lww(*bytes);
        if (d)
            on_registry(d.value(), m.origin);
        else
            ++rejected_;
        return;
    }
    auto name = m.topic.substr(std::min(m.topic.size(), kListTopic.size()));
    auto d = crdt::codec::decode_list(*bytes);
    if (!m.topic.starts_with(kListTopic) || !valid_list_name(name) || !d) {
        ++rejected_;
        return;
    }
    auto& l = list_ref(name);
    if (auto st = l.apply(d.value()); !st) {
        ++rejected_;
        static log::Sampled sampled;
        if (auto n = sampled.next())
            F0_LOG_WARN(replication_log(), "list {} update from {} refused: {} ({} so far)", name,
                        from, st.error().message, *n);
        return;
    }
    dirty("list/" + name);
    if (notify_)
        notify_("crdt", {{"list", name}, {"size", l.size()}, {"from", m.origin}});
}

void Replication::send_sync(const std::string& peer, bool reply) {
    auto lists = nlohmann::json::object();
    for (const auto& [name, l] : lists_)
        lists[name] = summary_json(l->summary());
    nlohmann::json msg{{"type", "crdt.sync"},
                       {"digest", b64(registry_.digest())},
                       {"lists", lists},
                       {"reply", reply}};
    if (auto st = links_.send(peer, "control", msg.dump()); !st)
        F0_LOG_WARN(replication_log(), "crdt sync to {} failed: {}", peer, st.error().message);
}

void Replication::send_registry(const std::string& peer, const std::string& their_digest) {
    bool more = false;
    auto pieces =
        registry_.pieces(registry_.differing(their_digest), kPieceBytes, opt_.sync_budget, more);
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        nlohmann::json out{{"type", "crdt.registry"},
                           {"delta", b64(crdt::codec::encode(pieces[i]))},
                           {"more", more && i + 1 == pieces.size()}};
        if (auto st = links_.send(peer, "control", out.dump()); !st) {
            F0_LOG_WARN(replication_log(), "registry piece to {} failed: {}", peer,
                        st.error().message);
            return;
        }
    }
}

bool Replication::on_control(const std::string& peer, const std::string& text) {
    // The control channel also carries the application's messages (up to max-message-size): only
    // a JSON object that names a crdt.* type somewhere is worth parsing here.
    if (text.empty() || text.front() != '{' || text.find("\"crdt.") == std::string::npos)
        return false;
    auto msg = parse_untrusted(text);
    if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string())
        return false;
    const auto type = msg["type"].get<std::string>();
    if (!type.starts_with("crdt."))
        return false;
    if (type == "crdt.sync") {
        on_sync(peer, msg);
        return true;
    }
    if (type == "crdt.registry") {
        auto bytes = unb64(msg.value("delta", nlohmann::json()));
        if (!bytes) {
            ++rejected_;
            return true;
        }
        auto d = crdt::codec::decode_lww(*bytes);
        if (!d) {
            ++rejected_;
            return true;
        }
        on_registry(d.value(), peer);
        // The sender stopped at its budget: ask for the next round with what we hold now.
        if (flag(msg, "more"))
            send_sync(peer, true);
        return true;
    }
    if (type == "crdt.delta") {
        auto name = msg.value("list", nlohmann::json()).is_string() ? msg["list"].get<std::string>()
                                                                    : std::string();
        auto bytes = unb64(msg.value("delta", nlohmann::json()));
        if (!valid_list_name(name) || !bytes) {
            ++rejected_;
            return true;
        }
        auto d = crdt::codec::decode_list(*bytes);
        auto& l = list_ref(name);
        if (!d || !l.apply(d.value())) {
            ++rejected_;
            return true;
        }
        dirty("list/" + name);
        if (notify_)
            notify_("crdt", {{"list", name}, {"size", l.size()}, {"from", peer}});
        return true;
    }
    ++rejected_;
    return true;
}

void Replication::on_sync(const std::string& peer, const nlohmann::json& msg) {
    auto now = clock_.steady_us() / 1000;
    auto last = last_answer_ms_.find(peer);
    if (last == last_answer_ms_.end() || now - last->second >= kSyncAnswerGapMs) {
        if (last_answer_ms_.size() > 4096) // one per peer that synced lately; the old ones go
            std::erase_if(last_answer_ms_,
                          [now](const auto& e) { return now - e.second >= kSyncAnswerGapMs; });
        last_answer_ms_[peer] = now;
        return answer_sync(peer, msg);
    }
    ++syncs_deferred_;
    auto& p = pending_sync_[peer];
    bool reply = (p.msg.is_null() || p.reply) && flag(msg, "reply");
    p.msg = msg;
    p.msg["reply"] = reply;
    p.reply = reply;
    if (!p.timer.armed())
        p.timer = clock_.after(std::chrono::milliseconds(last->second + kSyncAnswerGapMs - now),
                               [this, peer] {
                                   auto it = pending_sync_.find(peer);
                                   if (it == pending_sync_.end())
                                       return;
                                   auto m = std::move(it->second.msg);
                                   pending_sync_.erase(it);
                                   last_answer_ms_[peer] = clock_.steady_us() / 1000;
                                   answer_sync(peer, m);
                               });
}

void Replication::answer_sync(const std::string& peer, const nlohmann::json& msg) {
    ++syncs_answered_;
    // Older versions send their whole registry here.
    if (auto bytes = unb64(msg.value("registry", nlohmann::json()))) {
        if (auto s = crdt::codec::decode_lww(*bytes))
            on_registry(s.value(), peer);
        else
            ++rejected_;
    }
    if (msg.contains("digest")) {
        auto digest = unb64(msg["digest"]);
        if (!digest || digest->size() != RegistryState::kDigestBytes) {
            ++rejected_;
        } else {
            send_registry(peer, *digest);
            if (!flag(msg, "reply"))
                send_sync(peer, true);
        }
    }
    auto theirs = msg.value("lists", nlohmann::json::object());
    if (!theirs.is_object())
        return;
    for (const auto& [name, l] : lists_) {
        auto summary = theirs.contains(name) ? summary_from_json(theirs[name]) : Summary{};
        if (!summary) {
            ++rejected_;
            continue;
        }
        auto d = l->missing_for(*summary);
        // In pieces of at most ~64 KiB of values, so no control message nears the channel's
        // message size limit; the pieces are in document order, so origins arrive first.
        std::vector<crdt::Rga<std::string>::Delta> pieces(1);
        std::size_t bytes = 0;
        for (auto& run : d.runs) {
            for (const auto& v : run.values)
                bytes += v.size() + 8;
            pieces.back().runs.push_back(std::move(run));
            if (bytes > kPieceBytes) {
                pieces.emplace_back();
                bytes = 0;
            }
        }
        for (std::size_t i = 0; i < d.deletes.size(); i += 4096) {
            pieces.emplace_back();
            auto end = std::min(i + 4096, d.deletes.size());
            pieces.back().deletes.assign(d.deletes.begin() + static_cast<std::ptrdiff_t>(i),
                                         d.deletes.begin() + static_cast<std::ptrdiff_t>(end));
        }
        for (const auto& piece : pieces) {
            if (piece.empty())
                continue;
            nlohmann::json out{
                {"type", "crdt.delta"}, {"list", name}, {"delta", b64(crdt::codec::encode(piece))}};
            if (auto st = links_.send(peer, "control", out.dump()); !st)
                F0_LOG_WARN(replication_log(), "crdt delta to {} failed: {}", peer,
                            st.error().message);
        }
    }
}

nlohmann::json Replication::current_record(const std::string& id) const {
    auto current = registry_.current(id);
    return current ? parse_untrusted(*current) : nlohmann::json(); // admitted: verified already
}

Outcome Replication::registry_of(const std::string& id) const {
    auto owner = registry_.owner(id);
    if (!owner)
        return Error{Errc::UnknownPeer, "the registry holds no record of '" + id + "'", {}};
    auto records = nlohmann::json::array();
    for (const auto& e : registry_.elements_of(id))
        records.push_back(parse_untrusted(e));
    auto current = registry_.current(id);
    return nlohmann::json{{"id", id},
                          {"pubKey", *owner},
                          {"current", current ? parse_untrusted(*current) : nlohmann::json()},
                          {"records", records}};
}

Outcome Replication::edit_list(const std::string& name, const ListEdit& edit) {
    if (!valid_list_name(name))
        return Error{Errc::BadRequest, "list names are 1-48 characters of [A-Za-z0-9._-]", {}};
    auto& l = list_ref(name);
    auto delta = edit.op == ListEdit::Op::Insert ? l.insert(edit.index, edit.values)
                                                 : l.erase(edit.index, edit.count);
    if (!delta) {
        if (l.size() == 0 && l.span_count() == 0)
            lists_.erase(name); // a failed first edit leaves no empty list behind
        return Error{Errc::BadIndex, delta.error().message, {}};
    }
    // Saved before the edit is acknowledged (a crash right after loses nothing); changes that
    // arrive from peers are saved within save_delay (anti-entropy has them anyway).
    dirty("list/" + name);
    flush();
    if (publish_)
        if (auto s = publish_(std::string(kListTopic) + name,
                              {{"delta", b64(crdt::codec::encode(delta.value()))}});
            !s)
            F0_LOG_WARN(replication_log(), "cannot gossip list {}: {}", name, s.error().message);
    if (notify_)
        notify_("crdt", {{"list", name}, {"size", l.size()}, {"from", opt_.self}});
    return list(name);
}

Outcome Replication::list(const std::string& name) const {
    auto it = lists_.find(name);
    if (!valid_list_name(name) || it == lists_.end())
        return Error{Errc::NoList, "there is no list '" + name + "' here", {}};
    auto items = nlohmann::json::array();
    for (const auto& v : it->second->values())
        items.push_back(nlohmann::json::parse(v, nullptr, false));
    return nlohmann::json{{"name", name},
                          {"size", it->second->size()},
                          {"items", items},
                          {"pending", it->second->pending()}};
}

nlohmann::json Replication::lists() const {
    auto out = nlohmann::json::array();
    for (const auto& [name, l] : lists_)
        out.push_back({{"name", name}, {"size", l->size()}});
    return out;
}

} // namespace f0::mesh
