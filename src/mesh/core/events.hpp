// An event an owner raises and others subscribe to, on the control thread. Subscribers run in the
// order they subscribed; the composition root (Node) decides that order and writes it down.
#pragma once

#include <functional>
#include <vector>

namespace f0::mesh {

template <class... Args> class Event {
public:
    using Handler = std::function<void(Args...)>;
    void subscribe(Handler h) { handlers_.push_back(std::move(h)); }
    void operator()(Args... args) const {
        for (const auto& h : handlers_)
            h(args...);
    }

private:
    std::vector<Handler> handlers_;
};

} // namespace f0::mesh
