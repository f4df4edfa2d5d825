// Fans node events out to every open /events stream (server-sent events).
#pragma once

#include "api/http_types.hpp"

#include <nlohmann/json.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace f0::api {

// At most max_streams at once (a new one beyond is told why and closed); streams whose reader went
// away are forgotten on the next add or publish. The last `replay` events are kept (already
// serialized) so that a snapshot built a little earlier can be brought up to date for a new
// stream without building another one (see since()).
class EventHub {
public:
    explicit EventHub(std::size_t max_streams = 256, std::size_t replay = 256)
        : max_(max_streams), replay_(replay) {}
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
        auto frame =
            sse_frame(type, ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        ++published_;
        std::erase_if(streams_, [](const auto& s) { return !s->open(); });
        for (auto& s : streams_)
            s->send(frame);
        if (replay_ == 0)
            return;
        if (recent_.size() == replay_)
            recent_.pop_front();
        recent_.push_back(std::move(frame));
    }
    // The events published since the count was `mark`, oldest first; nullopt when some of them
    // are no longer kept.
    std::optional<std::vector<SseFrame>> since(std::uint64_t mark) const {
        if (mark > published_ || published_ - mark > recent_.size())
            return std::nullopt;
        return std::vector<SseFrame>(recent_.end() - static_cast<std::ptrdiff_t>(published_ - mark),
                                     recent_.end());
    }
    // At shutdown: every stream is closed and let go (a stream holds the router, whose routes
    // hold this hub: kept, they would never be freed).
    void close_all() {
        for (auto& s : streams_)
            s->close();
        streams_.clear();
    }
    std::size_t size() const { return streams_.size(); }
    std::uint64_t refused() const { return refused_; }
    std::uint64_t published() const { return published_; } // events so far (snapshot caching)

private:
    std::size_t max_, replay_;
    std::uint64_t refused_ = 0, published_ = 0;
    std::vector<std::shared_ptr<EventStream>> streams_;
    std::deque<SseFrame> recent_; // the last replay_ events published
};

} // namespace f0::api
