// Expected failures are values: Result<T> holds either a value or an Error saying what failed and
// why.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace f0 {

struct Error {
    std::string message;
};

template <class T> class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & {
        check();
        return std::get<0>(v_);
    }
    const T& value() const& {
        check();
        return std::get<0>(v_);
    }
    T&& value() && {
        check();
        return std::get<0>(std::move(v_));
    }
    const Error& error() const { return std::get<1>(v_); }

private:
    void check() const {
        if (!ok())
            throw std::logic_error("Result::value() on error: " + error().message);
    }
    std::variant<T, Error> v_;
};

// Result<void> equivalent.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(std::string message) {
    return Error{std::move(message)};
}

} // namespace f0
