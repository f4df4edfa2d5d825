#include "api/errors.hpp"

namespace f0::api {

int http_status(mesh::Errc e) {
    using mesh::Errc;
    switch (e) {
    case Errc::BadRequest:
    case Errc::WrongRecipient:
    case Errc::BadSdp:
        return 400;
    case Errc::BadSignature:
    case Errc::SignatureRequired:
    case Errc::BadDelegation:
    case Errc::StaleTimestamp:
        return 401;
    case Errc::NotAllowlisted:
    case Errc::UnknownSender:
        return 403;
    case Errc::UnknownPeer:
    case Errc::NoLink:
    case Errc::NoList:
        return 404;
    case Errc::Self:
    case Errc::WrongInstance:
    case Errc::KeyMismatch:
    case Errc::ReplayedNonce:
    case Errc::Glare:
    case Errc::NoPendingOffer:
    case Errc::LinkNotOpen:
    case Errc::Closed:
    case Errc::Superseded:
    case Errc::BadIndex:
        return 409;
    case Errc::TooLarge:
        return 413;
    case Errc::ReplayWindowFull:
    case Errc::RateLimited:
        return 429;
    case Errc::SendFailed:
    case Errc::DialFailed:
        return 502;
    case Errc::Stopping:
    case Errc::Busy:
        return 503;
    case Errc::NotAcknowledged:
        return 504;
    case Errc::Store:
    case Errc::Internal:
        return 500;
    }
    return 500;
}

Response error_response(const mesh::Error& e) {
    return error_response(http_status(e.code), std::string(mesh::code_of(e.code)), e.detail);
}

Response outcome_response(const mesh::Outcome& o, int ok_status) {
    if (auto* e = std::get_if<mesh::Error>(&o))
        return error_response(*e);
    return json_response(ok_status, std::get<nlohmann::json>(o).dump());
}

} // namespace f0::api
