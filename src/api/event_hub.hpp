// Fans node events out to every open /events stream (server-sent events).
#pragma once

#include "api/http_types.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

namespace f0::api {

// At most max_streams at once (a new one beyond is told why and closed); streams whose reader went
// away are forgotten on the next add or publish.
class EventHub {
public:
    explicit EventHub(std::size_t max_streams = 256) : max_(max_streams) {}
    bool add(std::shared_ptr<EventStream> s) {
        std::erase_if(streams_, [](const auto& x) { return !x->open(); });
        if (streams_.size() >= max_) {
            ++refused_;
            s->send("error",
                    R"({"error":"too_many_streams","detail":"this worker serves at most )" +
                        std::to_string(max_) + R"( event streams at once"})");
            s->close();
            return false;
        }
        streams_.push_back(std::move(s));
        return true;
    }
    void publish(const nlohmann::json& ev) {
        auto type = ev.value("type", "event");
        // Text from peers is validated before it becomes JSON; replace is the last line of defence.
        auto data = ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        ++published_;
        std::erase_if(streams_, [](const auto& s) { return !s->open(); });
        for (auto& s : streams_)
            s->send(type, data);
    }
    std::size_t size() const { return streams_.size(); }
    std::uint64_t refused() const { return refused_; }
    std::uint64_t published() const { return published_; } // events so far (snapshot caching)

private:
    std::size_t max_;
    std::uint64_t refused_ = 0, published_ = 0;
    std::vector<std::shared_ptr<EventStream>> streams_;
};

} // namespace f0::api
