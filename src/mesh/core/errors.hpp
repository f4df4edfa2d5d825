// What went wrong, as a value: a named error code and a sentence. mesh/ never speaks HTTP; api/
// maps each code to a status (api/errors.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace f0::mesh {

enum class Errc {
    BadRequest,        // the input is malformed or out of range
    Self,              // the id is this worker's own
    UnknownPeer,       // no such peer registered here (the resource asked for)
    UnknownSender,     // a signed message from a peer not registered here ("unknown_peer" too)
    NotAllowlisted,    // the peer is not on the allowlist
    KeyMismatch,       // another key is already bound to that id
    WrongRecipient,    // the envelope is for another worker
    BadSignature,      // does not verify with the bound key
    SignatureRequired, // a change to a known peer's record must be signed by its key
    BadDelegation,     // an instance's delegation is refused (DelegationRefusal says which check)
    WrongInstance,     // another instance of this peer serves that link (placement)
    StaleTimestamp,    // outside the signaling window
    ReplayedNonce,     // a nonce seen before
    ReplayWindowFull,  // the sender has used its envelopes for the window; try later
    RateLimited,       // the sender (by id) is over its rate; try later
    Glare,             // both dialled; the other side's offer wins
    BadSdp,            // the SDP cannot be used
    NoPendingOffer,    // an answer for no offer of ours
    NoLink,            // no link to that peer
    LinkNotOpen,       // a link exists but is not open
    SendFailed,        // the channel refused the message
    NotAcknowledged,   // no receipt: the peer may or may not have stored the message
    DialFailed,        // the link did not open
    Closed,            // the link was closed by the operator while dialling
    Superseded,        // a newer offer replaced this one
    Stopping,          // the worker is shutting down
    NoList,            // no replicated list of that name
    BadIndex,          // a list edit out of range
    TooLarge,          // over a documented size bound
    Busy,              // a capacity bound is reached (links in total or pending); try later
    Store,             // the store failed
    Internal,          // a bug or a failure of a component
};

std::string_view code_of(Errc e); // stable snake_case code, as in JSON error bodies

struct Error {
    Errc code = Errc::Internal;
    std::string detail;
    std::string remote_code; // for errors relayed from a peer: the code it answered
};

using Outcome = std::variant<nlohmann::json, Error>;
using OutcomeCallback = std::function<void(Outcome)>;

inline bool ok(const Outcome& o) {
    return std::holds_alternative<nlohmann::json>(o);
}

} // namespace f0::mesh
