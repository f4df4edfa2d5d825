// Node: the peer registry as an LWW-Element-Set and named lists as RGAs, replicated by gossip
// (topics crdt/registry and crdt/list/NAME, payload {"delta": base64 of the codec}) and repaired
// by anti-entropy over the control channel: when a link opens, and every crdt_sync_interval with
// one linked peer, each side sends {"type": "crdt.sync", registry state, list summaries} and
// answers a summary with {"type": "crdt.delta", list, delta} holding what the other lacks.
#include "crdt/codec.hpp"
#include "mesh/identity/jcs.hpp"
#include "mesh/node.hpp"
#include "util/base64.hpp"
#include "util/log.hpp"

#include <openssl/sha.h>

#include <random>

namespace f0::mesh {

namespace {
auto logger() {
    static auto l = log::get("mesh.crdt");
    return l;
}
constexpr std::string_view kRegistryTopic = "crdt/registry";
constexpr std::string_view kListTopic = "crdt/list/";
constexpr std::size_t kMaxValues = 1000, kMaxValueBytes = 8 * 1024;

bool valid_list_name(const std::string& n) {
    if (n.empty() || n.size() > 48)
        return false;
    for (unsigned char c : n)
        if (!std::isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    return true;
}

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

// The registry element for a peer: RFC 8785 JSON of what the beacon serves about it.
std::string record_json(const store::PeerRecord& p) {
    nlohmann::json j{{"id", p.id},
                     {"pubKey", p.pub_key},
                     {"region", p.region},
                     {"endpoints", {{"webrtc", p.endpoint}}}};
    if (p.lat && p.lon)
        j["geo"] = {{"lat", *p.lat}, {"lon", *p.lon}};
    return identity::canonical_json(j);
}

std::optional<store::PeerRecord> parse_record(const std::string& s) {
    auto j = nlohmann::json::parse(s, nullptr, false);
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string() || !j.contains("pubKey") ||
        !j["pubKey"].is_string())
        return std::nullopt;
    store::PeerRecord p;
    p.id = j["id"];
    p.pub_key = j["pubKey"];
    if (j.contains("region") && j["region"].is_string())
        p.region = j["region"];
    if (j.contains("endpoints") && j["endpoints"].is_object() &&
        j["endpoints"].contains("webrtc") && j["endpoints"]["webrtc"].is_string())
        p.endpoint = j["endpoints"]["webrtc"];
    if (j.contains("geo") && j["geo"].is_object() && j["geo"].contains("lat") &&
        j["geo"]["lat"].is_number() && j["geo"].contains("lon") && j["geo"]["lon"].is_number()) {
        p.lat = j["geo"]["lat"].get<double>();
        p.lon = j["geo"]["lon"].get<double>();
    }
    if (!identity::valid_peer_id(p.id))
        return std::nullopt;
    return p;
}

crdt::ReplicaId replica_of(const std::string& id) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), d);
    crdt::ReplicaId r = 0;
    for (int i = 0; i < 8; ++i)
        r = (r << 8) | d[i];
    return r;
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

crdt::Rga<std::string>& Node::list(const std::string& name) {
    auto& l = lists_[name];
    if (!l)
        l = std::make_unique<crdt::Rga<std::string>>(replica_id_);
    return *l;
}

Status Node::load_crdt() {
    replica_id_ = replica_of(config_.id);
    hlc_ = crdt::Hlc(config_.crdt_max_offset.count());
    auto docs = store_->crdt_docs();
    if (!docs)
        return docs.error();
    for (const auto& [name, text] : docs.value()) {
        auto bytes = unb64(text);
        if (!bytes) {
            F0_LOG_WARN(logger(), "stored CRDT '{}' is not base64; skipped", name);
            continue;
        }
        if (name == "registry") {
            auto s = crdt::codec::decode_lww(*bytes);
            if (s)
                registry_.merge(s.value());
            else
                F0_LOG_WARN(logger(), "stored registry unreadable: {}", s.error().message);
        } else if (name.starts_with("list/")) {
            auto d = crdt::codec::decode_list(*bytes);
            auto& l = list(name.substr(5));
            if (!d || !l.load(d.value()))
                F0_LOG_WARN(logger(), "stored list '{}' unreadable; starting it empty", name);
        }
    }
    // Stamps only move forward from what we held.
    for (const auto& [e, entry] : registry_.entries())
        for (const auto& st : {entry.add, entry.remove})
            if (st)
                (void)hlc_.receive(st->ts,
                                   std::max<std::int64_t>(
                                       unix_ms(), static_cast<std::int64_t>(st->ts.physical_ms())));
    F0_LOG_INFO(logger(), "registry of {} records, {} lists", registry_.elements().size(),
                lists_.size());
    return Ok{};
}

void Node::save_crdt(const std::string& doc) {
    std::string bytes;
    if (doc == "registry")
        bytes = crdt::codec::encode(registry_);
    else if (auto it = lists_.find(doc.substr(5)); doc.starts_with("list/") && it != lists_.end())
        bytes = crdt::codec::encode(it->second->state());
    else
        return;
    if (auto st = store_->put_crdt(doc, b64(bytes), unix_ms()); !st)
        F0_LOG_WARN(logger(), "cannot store {}: {}", doc, st.error().message);
}

void Node::registry_put(const store::PeerRecord& p) {
    auto rec = record_json(p);
    if (registry_.contains(rec))
        return;
    crdt::Stamp st{hlc_.now(unix_ms()), replica_id_};
    crdt::LwwElementSet<std::string> delta;
    for (const auto& e : registry_.elements()) // the record it replaces
        if (auto old = parse_record(e); old && old->id == p.id)
            delta.merge(registry_.remove(e, st));
    delta.merge(registry_.add(rec, st));
    save_crdt("registry");
    if (gossip_) {
        auto m = gossip_->publish(std::string(kRegistryTopic),
                                  {{"delta", b64(crdt::codec::encode(delta))}}, unix_ms());
        if (!m)
            F0_LOG_WARN(logger(), "cannot gossip the registry: {}", m.error().message);
    }
}

bool Node::adopt_stamps(const crdt::LwwElementSet<std::string>& s, const std::string& from) {
    auto now = unix_ms();
    for (const auto& [e, entry] : s.entries())
        for (const auto& st : {entry.add, entry.remove})
            if (st)
                if (auto r = hlc_.receive(st->ts, now); !r) {
                    ++crdt_rejected_;
                    F0_LOG_WARN(logger(), "registry update from {} refused: {}", from,
                                r.error().message);
                    return false;
                }
    return true;
}

void Node::on_registry(const crdt::LwwElementSet<std::string>& delta, const std::string& from) {
    if (!adopt_stamps(delta, from))
        return;
    registry_.merge(delta);
    save_crdt("registry");
    // For each peer the update touched, the live record with the latest add wins.
    std::map<std::string, std::pair<crdt::Stamp, store::PeerRecord>> best;
    for (const auto& [e, entry] : registry_.entries()) {
        if (!registry_.contains(e))
            continue;
        auto p = parse_record(e);
        if (!p || p->id == config_.id)
            continue;
        auto& slot = best[p->id];
        if (slot.second.id.empty() || slot.first < *entry.add)
            slot = {*entry.add, *p};
    }
    for (auto& [id, sp] : best) {
        auto& p = sp.second;
        const auto* have = peers_.find(id);
        if (have && have->pub_key == p.pub_key && have->endpoint == p.endpoint &&
            have->region == p.region && have->lat == p.lat && have->lon == p.lon)
            continue;
        p.registered_ms = p.updated_ms = unix_ms();
        if (auto st = peers_.add(p, false); !st) {
            ++crdt_rejected_;
            F0_LOG_INFO(logger(), "registry record for {} from {} refused: {}", id, from,
                        st.error().message);
            continue;
        }
        (void)store_->upsert_peer(*peers_.find(id));
        F0_LOG_INFO(logger(), "learned peer {} from {}", id, from);
        emit("peer", {{"id", id}, {"region", p.region}, {"via", from}});
    }
}

void Node::on_crdt_gossip(const gossip::GossipMessage& m, const std::string& from) {
    if (m.origin == config_.id || !m.payload.is_object())
        return;
    auto bytes = unb64(m.payload.value("delta", nlohmann::json()));
    if (!bytes) {
        ++crdt_rejected_;
        return;
    }
    if (m.topic == kRegistryTopic) {
        auto d = crdt::codec::decode_lww(*bytes);
        if (d)
            on_registry(d.value(), m.origin);
        else
            ++crdt_rejected_;
        return;
    }
    auto name = m.topic.substr(kListTopic.size());
    auto d = crdt::codec::decode_list(*bytes);
    if (!m.topic.starts_with(kListTopic) || !valid_list_name(name) || !d) {
        ++crdt_rejected_;
        return;
    }
    auto& l = list(name);
    if (auto st = l.apply(d.value()); !st) {
        ++crdt_rejected_;
        F0_LOG_WARN(logger(), "list {} update from {} refused: {}", name, from, st.error().message);
        return;
    }
    save_crdt("list/" + name);
    emit("crdt", {{"list", name}, {"size", l.size()}, {"from", m.origin}});
}

void Node::send_crdt_sync(const std::string& peer) {
    auto it = links_.find(peer);
    if (it == links_.end() || it->second.state != LinkState::Open)
        return;
    auto lists = nlohmann::json::object();
    for (const auto& [name, l] : lists_)
        lists[name] = summary_json(l->summary());
    nlohmann::json msg{
        {"type", "crdt.sync"}, {"registry", b64(crdt::codec::encode(registry_))}, {"lists", lists}};
    if (auto st = it->second.channels["control"]->send(std::string_view(msg.dump())); !st)
        F0_LOG_WARN(logger(), "crdt sync to {} failed: {}", peer, st.error().message);
}

void Node::on_crdt_control(const std::string& peer, const nlohmann::json& msg) {
    const auto type = msg.value("type", std::string());
    if (type == "crdt.sync") {
        if (auto bytes = unb64(msg.value("registry", nlohmann::json()))) {
            if (auto s = crdt::codec::decode_lww(*bytes))
                on_registry(s.value(), peer);
            else
                ++crdt_rejected_;
        }
        auto theirs = msg.value("lists", nlohmann::json::object());
        auto it = links_.find(peer);
        if (!theirs.is_object() || it == links_.end())
            return;
        for (const auto& [name, l] : lists_) {
            auto summary = theirs.contains(name) ? summary_from_json(theirs[name]) : Summary{};
            if (!summary) {
                ++crdt_rejected_;
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
                if (bytes > 64 * 1024) {
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
                nlohmann::json out{{"type", "crdt.delta"},
                                   {"list", name},
                                   {"delta", b64(crdt::codec::encode(piece))}};
                auto st = it->second.channels["control"]->send(std::string_view(out.dump()));
                if (!st)
                    F0_LOG_WARN(logger(), "crdt delta to {} failed: {}", peer, st.error().message);
            }
        }
        return;
    }
    if (type == "crdt.delta") {
        auto name = msg.value("list", std::string());
        auto bytes = unb64(msg.value("delta", nlohmann::json()));
        if (!valid_list_name(name) || !bytes) {
            ++crdt_rejected_;
            return;
        }
        auto d = crdt::codec::decode_list(*bytes);
        auto& l = list(name);
        if (!d || !l.apply(d.value())) {
            ++crdt_rejected_;
            return;
        }
        save_crdt("list/" + name);
        emit("crdt", {{"list", name}, {"size", l.size()}, {"from", peer}});
        return;
    }
    ++crdt_rejected_;
}

void Node::crdt_sync_tick() {
    if (stopped_)
        return;
    std::vector<std::string> open;
    for (const auto& [peer, link] : links_)
        if (link.state == LinkState::Open)
            open.push_back(peer);
    if (!open.empty()) {
        thread_local std::mt19937 rng{std::random_device{}()};
        send_crdt_sync(open[std::uniform_int_distribution<std::size_t>(0, open.size() - 1)(rng)]);
    }
    rearm(*crdt_sync_timer_, config_.crdt_sync_interval, &Node::crdt_sync_tick);
}

Outcome Node::crdt_list_edit(const std::string& name, const nlohmann::json& body) {
    if (!valid_list_name(name))
        return ApiError{400, "bad_request", "list names are 1-48 characters of [A-Za-z0-9._-]"};
    if (!body.is_object() || !body.contains("op") || !body["op"].is_string())
        return ApiError{400, "bad_request",
                        "the body must be {\"op\": \"insert\", \"index\": n, \"values\": [...]} "
                        "or {\"op\": \"delete\", \"index\": n, \"count\": n}"};
    auto op = body["op"].get<std::string>();
    auto index = body.value("index", nlohmann::json());
    if (!index.is_number_unsigned())
        return ApiError{400, "bad_request", "'index' must be a non-negative integer"};
    std::vector<std::string> items;
    std::size_t count = 0;
    if (op == "insert") {
        auto values = body.value("values", nlohmann::json());
        if (!values.is_array() || values.empty() || values.size() > kMaxValues)
            return ApiError{400, "bad_request", "'values' must be an array of 1-1000 JSON values"};
        std::size_t bytes = 0;
        for (const auto& v : values) {
            items.push_back(v.dump());
            bytes += items.back().size();
        }
        if (bytes > kMaxValueBytes)
            return ApiError{413, "too_large", "at most 8 KiB of values per insert"};
    } else if (op == "delete") {
        auto c = body.value("count", nlohmann::json(1));
        if (!c.is_number_unsigned() || c.get<std::size_t>() > kMaxValues)
            return ApiError{400, "bad_request", "'count' must be an integer 0-1000"};
        count = c.get<std::size_t>();
    } else {
        return ApiError{400, "bad_request", "'op' must be \"insert\" or \"delete\""};
    }
    auto& l = list(name);
    auto delta = op == "insert" ? l.insert(index.get<std::size_t>(), items)
                                : l.erase(index.get<std::size_t>(), count);
    if (!delta) {
        if (l.size() == 0 && l.span_count() == 0)
            lists_.erase(name); // a failed first edit leaves no empty list behind
        return ApiError{409, "bad_index", delta.error().message};
    }
    save_crdt("list/" + name);
    auto m = gossip_->publish(std::string(kListTopic) + name,
                              {{"delta", b64(crdt::codec::encode(delta.value()))}}, unix_ms());
    if (!m)
        F0_LOG_WARN(logger(), "cannot gossip list {}: {}", name, m.error().message);
    emit("crdt", {{"list", name}, {"size", l.size()}, {"from", config_.id}});
    return crdt_list(name);
}

Outcome Node::crdt_list(const std::string& name) const {
    auto it = lists_.find(name);
    if (!valid_list_name(name) || it == lists_.end())
        return ApiError{404, "no_list", "there is no list '" + name + "' here"};
    auto items = nlohmann::json::array();
    for (const auto& v : it->second->values())
        items.push_back(nlohmann::json::parse(v, nullptr, false));
    return nlohmann::json{{"name", name},
                          {"size", it->second->size()},
                          {"items", items},
                          {"pending", it->second->pending()}};
}

nlohmann::json Node::crdt_lists() const {
    auto out = nlohmann::json::array();
    for (const auto& [name, l] : lists_)
        out.push_back({{"name", name}, {"size", l->size()}});
    return out;
}

} // namespace f0::mesh
