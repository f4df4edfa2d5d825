// A gossip message {id, origin, ts, seq, hops, topic, payload, dlg?, sig} and the frames of the
// gossip channel. The origin signs the RFC 8785 serialisation of {origin, payload, seq, topic, ts}
// (and dlg, the delegation of an instance of the origin, when there is one);
// id is the first 16 bytes of SHA-256 of those same bytes, in hex, so an id names exactly one
// content and a receiver recomputes it before anything else. hops is not signed: every forwarder
// adds one.
//
// Frames (JSON text on the `gossip` channel, or the body of POST /gossip):
//   {"t":"msg", id, origin, ts, seq, hops, topic, payload, sig}
//   {"t":"ihave", "ids":[...]}   digest: "I have these"
//   {"t":"iwant", "ids":[...]}   "send me these"
#pragma once

#include "mesh/identity/delegation.hpp"
#include "mesh/identity/identity.hpp"
#include "util/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace f0::mesh::gossip {

struct MessageLimits {
    std::size_t max_payload_bytes = 16 * 1024; // payload as serialised JSON
    std::size_t max_ids = 1000;                // per ihave / iwant frame
    int max_hops = 16;                         // a frame claiming more is invalid
};

struct GossipMessage {
    std::string id;
    std::string origin;
    std::int64_t ts_ms = 0;
    std::uint64_t seq = 0;
    int hops = 0;
    std::string topic;
    nlohmann::json payload;
    std::string sig; // base64 Ed25519
    // From one instance of `origin` (issue 17): the peer key's certificate of the instance key
    // that signed ("dlg" on the wire; signed, so part of the id too).
    std::optional<identity::Delegation> delegation;

    std::string signing_input() const;
    std::string compute_id() const;
    bool verify(const identity::PublicKey& key) const;
    nlohmann::json to_json() const; // the "msg" frame
    static GossipMessage make(const identity::Identity& signer, std::string origin,
                              std::string topic, nlohmann::json payload, std::int64_t ts_ms,
                              std::uint64_t seq,
                              std::optional<identity::Delegation> delegation = std::nullopt);
};

bool valid_topic(const std::string& topic);

struct Frame {
    enum class Type { Msg, IHave, IWant } type = Type::Msg;
    GossipMessage msg;            // Msg
    std::vector<std::string> ids; // IHave, IWant
};

// Parses and checks shape and sizes (not the signature). Errors say which field is wrong.
Result<Frame> parse_frame(std::string_view text, const MessageLimits& limits);
std::string ids_frame(Frame::Type type, const std::vector<std::string>& ids);

} // namespace f0::mesh::gossip
