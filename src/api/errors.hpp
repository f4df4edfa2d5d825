// mesh errors as HTTP: each named code has one status; the body is {"error": code, "detail"}.
#pragma once

#include "api/http_types.hpp"
#include "mesh/core/errors.hpp"

namespace f0::api {

int http_status(mesh::Errc e);
Response error_response(const mesh::Error& e);
Response outcome_response(const mesh::Outcome& o, int ok_status = 200);

} // namespace f0::api
