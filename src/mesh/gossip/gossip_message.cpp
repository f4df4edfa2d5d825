// Gossip message codec, signing and frame parsing.
#include "mesh/gossip/gossip_message.hpp"

#include "mesh/identity/jcs.hpp"
#include "mesh/identity/signed_envelope.hpp"
#include "util/base64.hpp"
#include "util/json_in.hpp"

#include <openssl/sha.h>

namespace f0::mesh::gossip {

namespace {
constexpr std::size_t kIdHexChars = 32;

bool valid_id(const std::string& id) {
    if (id.size() != kIdHexChars)
        return false;
    for (char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

Result<std::string> str(const nlohmann::json& j, const char* name, std::size_t max) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string())
        return make_error(std::string("field '") + name + "' must be a string");
    if (it->get_ref<const std::string&>().size() > max)
        return make_error(std::string("field '") + name + "' is too long");
    return it->get<std::string>();
}

Result<GossipMessage> parse_msg(const nlohmann::json& j, const MessageLimits& limits) {
    GossipMessage m;
    for (auto [name, out, max] :
         {std::tuple{"id", &m.id, kIdHexChars}, std::tuple{"origin", &m.origin, std::size_t{64}},
          std::tuple{"topic", &m.topic, std::size_t{64}},
          std::tuple{"sig", &m.sig, std::size_t{128}}}) {
        auto v = str(j, name, max);
        if (!v)
            return v.error();
        *out = std::move(v).value();
    }
    if (!valid_id(m.id))
        return make_error("field 'id' must be 32 lowercase hex digits");
    if (!identity::valid_peer_id(m.origin))
        return make_error("field 'origin' must be a peer id");
    if (!valid_topic(m.topic))
        return make_error("field 'topic' must be 1-64 characters of [A-Za-z0-9._:/-]");
    auto ts = j.find("ts"), seq = j.find("seq"), hops = j.find("hops");
    if (ts == j.end() || !ts->is_number_integer())
        return make_error("field 'ts' must be an integer (Unix ms)");
    if (seq == j.end() || !seq->is_number_unsigned())
        return make_error("field 'seq' must be a non-negative integer");
    if (hops == j.end() || !hops->is_number_integer())
        return make_error("field 'hops' must be an integer");
    m.ts_ms = ts->get<std::int64_t>();
    m.seq = seq->get<std::uint64_t>();
    auto h = hops->get<std::int64_t>();
    if (h < 0 || h > limits.max_hops)
        return make_error("field 'hops' is out of range");
    m.hops = static_cast<int>(h);
    auto payload = j.find("payload");
    if (payload == j.end())
        return make_error("missing field 'payload'");
    if (payload->dump().size() > limits.max_payload_bytes)
        return make_error("payload is larger than " + std::to_string(limits.max_payload_bytes) +
                          " bytes");
    m.payload = *payload;
    if (auto d = j.find("dlg"); d != j.end()) {
        auto parsed = identity::Delegation::from_json(*d);
        if (!parsed)
            return make_error("field 'dlg': " + parsed.error().message);
        m.delegation = std::move(parsed.value());
    }
    return m;
}
} // namespace

bool valid_topic(const std::string& topic) {
    if (topic.empty() || topic.size() > 64)
        return false;
    for (unsigned char c : topic)
        if (!std::isalnum(c) && c != '.' && c != '_' && c != ':' && c != '/' && c != '-')
            return false;
    return true;
}

std::string GossipMessage::signing_input() const {
    nlohmann::json j{
        {"origin", origin}, {"payload", payload}, {"seq", seq}, {"topic", topic}, {"ts", ts_ms}};
    if (delegation)
        j["dlg"] = delegation->to_json();
    return identity::canonical_json(j);
}

std::string GossipMessage::compute_id() const {
    auto input = signing_input();
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    for (std::size_t i = 0; i < kIdHexChars / 2; ++i) {
        id += kHex[digest[i] >> 4];
        id += kHex[digest[i] & 15];
    }
    return id;
}

bool GossipMessage::verify(const identity::PublicKey& key) const {
    auto raw = base64_decode(sig);
    if (!raw || raw.value().size() != 64)
        return false;
    identity::Signature s;
    std::copy(raw.value().begin(), raw.value().end(), s.begin());
    auto input = signing_input();
    return identity::verify(key,
                            {reinterpret_cast<const std::uint8_t*>(input.data()), input.size()}, s);
}

nlohmann::json GossipMessage::to_json() const {
    nlohmann::json j{{"t", "msg"},     {"id", id},           {"origin", origin},
                     {"ts", ts_ms},    {"seq", seq},         {"hops", hops},
                     {"topic", topic}, {"payload", payload}, {"sig", sig}};
    if (delegation)
        j["dlg"] = delegation->to_json();
    return j;
}

GossipMessage GossipMessage::make(const identity::Identity& signer, std::string origin,
                                  std::string topic, nlohmann::json payload, std::int64_t ts_ms,
                                  std::uint64_t seq,
                                  std::optional<identity::Delegation> delegation) {
    GossipMessage m;
    m.delegation = std::move(delegation);
    m.origin = std::move(origin);
    m.topic = std::move(topic);
    m.payload = std::move(payload);
    m.ts_ms = ts_ms;
    m.seq = seq;
    m.id = m.compute_id();
    auto input = m.signing_input();
    auto s = signer.sign({reinterpret_cast<const std::uint8_t*>(input.data()), input.size()});
    m.sig = base64_encode({s.data(), s.size()});
    return m;
}

Result<Frame> parse_frame(std::string_view text, const MessageLimits& limits) {
    auto j = parse_untrusted(text);
    if (j.is_discarded() || !j.is_object())
        return make_error("a gossip frame must be a JSON object");
    auto t = j.find("t");
    if (t == j.end() || !t->is_string())
        return make_error("field 't' must be \"msg\", \"ihave\" or \"iwant\"");
    Frame f;
    const auto& type = t->get_ref<const std::string&>();
    if (type == "msg") {
        auto m = parse_msg(j, limits);
        if (!m)
            return m.error();
        f.msg = std::move(m).value();
        return f;
    }
    if (type != "ihave" && type != "iwant")
        return make_error("field 't' must be \"msg\", \"ihave\" or \"iwant\"");
    f.type = type == "ihave" ? Frame::Type::IHave : Frame::Type::IWant;
    auto ids = j.find("ids");
    if (ids == j.end() || !ids->is_array())
        return make_error("field 'ids' must be an array");
    if (ids->size() > limits.max_ids)
        return make_error("field 'ids' has more than " + std::to_string(limits.max_ids) +
                          " entries");
    for (const auto& id : *ids) {
        if (!id.is_string() || !valid_id(id.get_ref<const std::string&>()))
            return make_error("field 'ids' must hold message ids (32 lowercase hex digits)");
        f.ids.push_back(id.get<std::string>());
    }
    return f;
}

std::string ids_frame(Frame::Type type, const std::vector<std::string>& ids) {
    return nlohmann::json{{"t", type == Frame::Type::IHave ? "ihave" : "iwant"}, {"ids", ids}}
        .dump();
}

} // namespace f0::mesh::gossip
