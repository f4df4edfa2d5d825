// JCS serialisation. Integers print as decimal; other numbers use the shortest round-trip form,
// laid out as ECMAScript's Number.prototype.toString does (RFC 8785 section 3.2.2.3).
#include "mesh/identity/jcs.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace f0::mesh::identity {

namespace {
std::u16string utf16(const std::string& s) {
    std::u16string out;
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = s[i];
        std::uint32_t cp;
        int n;
        if (c < 0x80) {
            cp = c;
            n = 1;
        } else if ((c >> 5) == 6) {
            cp = c & 0x1f;
            n = 2;
        } else if ((c >> 4) == 14) {
            cp = c & 0x0f;
            n = 3;
        } else {
            cp = c & 0x07;
            n = 4;
        }
        for (int k = 1; k < n && i + k < s.size(); ++k)
            cp = cp << 6 | (static_cast<unsigned char>(s[i + k]) & 0x3f);
        i += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
        } else
            out.push_back(static_cast<char16_t>(cp));
    }
    return out;
}

void write_string(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20) {
                static const char* hex = "0123456789abcdef";
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else
                out += static_cast<char>(c);
        }
    }
    out += '"';
}

void write_double(std::string& out, double d) {
    if (!std::isfinite(d))
        throw std::invalid_argument("JCS cannot represent NaN or Infinity");
    if (d == 0) {
        out += '0';
        return;
    }
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, p); // d.ddde[+-]XX, shortest round trip
    auto e = sci.find('e');
    std::string mant = sci.substr(0, e);
    int exp = std::stoi(sci.substr(e + 1));
    bool neg = mant[0] == '-';
    if (neg)
        mant.erase(0, 1);
    std::string digits;
    for (char ch : mant)
        if (ch != '.')
            digits += ch;
    int k = static_cast<int>(digits.size()), n = exp + 1; // value = 0.digits * 10^n
    // Appends only: GCC 12's -Wrestrict misreads std::string's operator+ once inlined (Release).
    if (neg)
        out += '-';
    if (k <= n && n <= 21) {
        out.append(digits).append(static_cast<std::size_t>(n - k), '0');
    } else if (0 < n && n <= 21) {
        out.append(digits, 0, static_cast<std::size_t>(n)).append(1, '.');
        out.append(digits, static_cast<std::size_t>(n));
    } else if (-6 < n && n <= 0) {
        out.append("0.").append(static_cast<std::size_t>(-n), '0').append(digits);
    } else {
        out.append(digits, 0, 1);
        if (k > 1)
            out.append(1, '.').append(digits, 1);
        out.append(1, 'e')
            .append(1, n - 1 >= 0 ? '+' : '-')
            .append(std::to_string(std::abs(n - 1)));
    }
}

void write(std::string& out, const nlohmann::json& v) {
    switch (v.type()) {
    case nlohmann::json::value_t::null:
        out += "null";
        break;
    case nlohmann::json::value_t::boolean:
        out += v.get<bool>() ? "true" : "false";
        break;
    case nlohmann::json::value_t::number_integer:
        out += std::to_string(v.get<std::int64_t>());
        break;
    case nlohmann::json::value_t::number_unsigned:
        out += std::to_string(v.get<std::uint64_t>());
        break;
    case nlohmann::json::value_t::number_float:
        write_double(out, v.get<double>());
        break;
    case nlohmann::json::value_t::string:
        write_string(out, v.get_ref<const std::string&>());
        break;
    case nlohmann::json::value_t::array: {
        out += '[';
        bool first = true;
        for (const auto& e : v) {
            if (!first)
                out += ',';
            first = false;
            write(out, e);
        }
        out += ']';
        break;
    }
    case nlohmann::json::value_t::object: {
        std::vector<std::pair<std::u16string, const std::string*>> keys;
        for (auto it = v.begin(); it != v.end(); ++it)
            keys.emplace_back(utf16(it.key()), &it.key());
        std::sort(keys.begin(), keys.end());
        out += '{';
        bool first = true;
        for (const auto& [k16, key] : keys) {
            if (!first)
                out += ',';
            first = false;
            write_string(out, *key);
            out += ':';
            write(out, v.at(*key));
        }
        out += '}';
        break;
    }
    default:
        throw std::invalid_argument("JCS cannot represent this JSON value");
    }
}
} // namespace

std::string canonical_json(const nlohmann::json& value) {
    std::string out;
    write(out, value);
    return out;
}

} // namespace f0::mesh::identity
