#include "mesh/core/errors.hpp"

#include <array>
#include <utility>

namespace f0::mesh {

namespace {
constexpr std::array<std::pair<Errc, std::string_view>, 32> kCodes{{
    {Errc::BadRequest, "bad_request"},
    {Errc::Self, "self"},
    {Errc::UnknownPeer, "unknown_peer"},
    {Errc::UnknownSender, "unknown_peer"},
    {Errc::NotAllowlisted, "not_allowlisted"},
    {Errc::KeyMismatch, "key_mismatch"},
    {Errc::WrongRecipient, "wrong_recipient"},
    {Errc::BadSignature, "bad_signature"},
    {Errc::SignatureRequired, "signature_required"},
    {Errc::NotAcknowledged, "not_acknowledged"},
    {Errc::BadDelegation, "bad_delegation"},
    {Errc::WrongInstance, "wrong_instance"},
    {Errc::StaleTimestamp, "stale_timestamp"},
    {Errc::ReplayedNonce, "replayed_nonce"},
    {Errc::ReplayWindowFull, "replay_window_full"},
    {Errc::RateLimited, "rate_limited"},
    {Errc::Glare, "glare"},
    {Errc::BadSdp, "bad_sdp"},
    {Errc::NoPendingOffer, "no_pending_offer"},
    {Errc::NoLink, "no_link"},
    {Errc::LinkNotOpen, "link_not_open"},
    {Errc::SendFailed, "send_failed"},
    {Errc::DialFailed, "dial_failed"},
    {Errc::Closed, "closed"},
    {Errc::Superseded, "superseded"},
    {Errc::Stopping, "stopping"},
    {Errc::NoList, "no_list"},
    {Errc::BadIndex, "bad_index"},
    {Errc::TooLarge, "too_large"},
    {Errc::Busy, "busy"},
    {Errc::Store, "store_error"},
    {Errc::Internal, "internal"},
}};
} // namespace

std::string_view code_of(Errc e) {
    for (const auto& [c, s] : kCodes)
        if (c == e)
            return s;
    return "internal";
}

} // namespace f0::mesh
