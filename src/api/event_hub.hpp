// Fans node events out to every open /events stream (server-sent events).
#pragma once

#include "api/http_types.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

namespace f0::api {

class EventHub {
public:
    void add(std::shared_ptr<EventStream> s) { streams_.push_back(std::move(s)); }
    void publish(const nlohmann::json& ev) {
        auto type = ev.value("type", "event");
        // Text from peers is validated before it becomes JSON; replace is the last line of defence.
        auto data = ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::erase_if(streams_, [](const auto& s) { return !s->open(); });
        for (auto& s : streams_)
            s->send(type, data);
    }
    std::size_t size() const { return streams_.size(); }

private:
    std::vector<std::shared_ptr<EventStream>> streams_;
};

} // namespace f0::api
