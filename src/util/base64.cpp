// Base64 with a strict decoder: length a multiple of 4, only the alphabet, padding only at the end.
#include "util/base64.hpp"

namespace f0 {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}
} // namespace

std::string base64_encode(std::span<const std::uint8_t> b) {
    std::string out;
    out.reserve((b.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < b.size(); i += 3) {
        std::uint32_t v = b[i] << 16 | b[i + 1] << 8 | b[i + 2];
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i + 1 == b.size()) {
        std::uint32_t v = b[i] << 16;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == b.size()) {
        std::uint32_t v = b[i] << 16 | b[i + 1] << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

Result<std::vector<std::uint8_t>> base64_decode(std::string_view t) {
    if (t.size() % 4 != 0)
        return make_error("base64 length " + std::to_string(t.size()) + " is not a multiple of 4");
    std::vector<std::uint8_t> out;
    out.reserve(t.size() / 4 * 3);
    for (std::size_t i = 0; i < t.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            char c = t[i + k];
            if (c == '=' && i + 4 == t.size() && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad)
                return make_error("base64 padding in the middle");
            v[k] = value_of(c);
            if (v[k] < 0)
                return make_error("invalid base64 character at offset " + std::to_string(i + k));
        }
        std::uint32_t x = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
        out.push_back(static_cast<std::uint8_t>(x >> 16));
        if (pad < 2)
            out.push_back(static_cast<std::uint8_t>(x >> 8));
        if (pad < 1)
            out.push_back(static_cast<std::uint8_t>(x));
    }
    return out;
}

} // namespace f0
