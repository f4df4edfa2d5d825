#include "api/metrics.hpp"

#include "qos/qos_probe.hpp"
#include "rtc/datagram/datagram_mux.hpp"
#include "rtc/ice/ice_transport.hpp"
#include "rtc/sctp/sctp_association.hpp"

#include <sstream>

namespace f0::api {

std::string label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\', out += c;
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

namespace {
void help(std::ostream& o, const char* name, const char* type, const char* text) {
    o << "# HELP " << name << ' ' << text << "\n# TYPE " << name << ' ' << type << "\n";
}

void link_metrics(std::ostream& o, const mesh::Node& node) {
    const auto& links = node.links();
    help(o, "f0_links", "gauge", "Links by state.");
    std::map<std::string, int> by_state;
    for (const auto& [p, l] : links.all())
        ++by_state[std::string(mesh::to_string(l.state))];
    for (auto s : {"dialing", "connecting", "open", "failed", "closed"})
        o << "f0_links{state=\"" << s << "\"} " << by_state[s] << "\n";
    help(o, "f0_peers", "gauge", "Known peers.");
    o << "f0_peers " << node.peers().all().size() << "\n";
    const auto& sc = node.signaling().counters();
    help(o, "f0_dials_total", "counter", "Dials started.");
    o << "f0_dials_total " << sc.dials << "\n";
    help(o, "f0_dials_failed_total", "counter", "Dialled links that failed before opening.");
    o << "f0_dials_failed_total " << links.counters().dials_failed << "\n";
    help(o, "f0_offers_accepted_total", "counter", "Offers answered.");
    o << "f0_offers_accepted_total " << sc.offers_accepted << "\n";
    help(o, "f0_links_closed_by_peer_total", "counter",
         "Links the peer closed cleanly (SCTP SHUTDOWN or ABORT, DTLS close_notify).");
    o << "f0_links_closed_by_peer_total " << links.counters().closed_by_peer << "\n";
    const auto& ic = node.signaling().instances().counters();
    help(o, "f0_instances_total", "counter",
         "Instances of peers served by several workers: refused over the per-peer bound (16) or "
         "the peer bound, marked down when unreachable, dropped by a revocation.");
    o << "f0_instances_total{event=\"refused_full\"} " << ic.refused_full << "\n"
      << "f0_instances_total{event=\"marked_down\"} " << ic.marked_down << "\n"
      << "f0_instances_total{event=\"revoked\"} " << ic.revoked << "\n";
    help(o, "f0_instance_links_moved_total", "counter",
         "Links dialled again through another instance: the serving one was unreachable "
         "(failover), or placement named another (rebalance).");
    o << "f0_instance_links_moved_total{why=\"failover\"} " << sc.instance_failovers << "\n"
      << "f0_instance_links_moved_total{why=\"rebalance\"} " << sc.instance_moves << "\n";
    const auto& rc = node.receipts().counters();
    help(o, "f0_receipt_messages_total", "counter",
         "Control messages with receipts. As the sender: sent, acked (the peer stored it), "
         "not_acked (timeout, refusal or the link went down), busy (over the pending bound, "
         "1,000). As the receiver: stored, repeat (stored before, acknowledged again), refused "
         "(malformed, over 64 KiB, or the store failed), evicted (over the 1,000 per peer or "
         "4,096 in all that are kept).");
    o << "f0_receipt_messages_total{event=\"sent\"} " << rc.sent << "\n"
      << "f0_receipt_messages_total{event=\"acked\"} " << rc.acked << "\n"
      << "f0_receipt_messages_total{event=\"not_acked\"} " << rc.not_acked << "\n"
      << "f0_receipt_messages_total{event=\"busy\"} " << rc.refused_busy << "\n"
      << "f0_receipt_messages_total{event=\"stored\"} " << rc.stored << "\n"
      << "f0_receipt_messages_total{event=\"repeat\"} " << rc.repeats << "\n"
      << "f0_receipt_messages_total{event=\"refused\"} " << rc.refused << "\n"
      << "f0_receipt_messages_total{event=\"evicted\"} " << rc.evicted << "\n";
    help(o, "f0_receipts_pending", "gauge", "Messages waiting for their receipt.");
    o << "f0_receipts_pending " << node.receipts().pending() << "\n";
    if (const auto& d = node.config().delegation) {
        help(o, "f0_delegation_seconds_left", "gauge",
             "This instance's delegation: seconds until it expires (negative: expired; the "
             "instance is refused by every peer and no longer registers).");
        o << "f0_delegation_seconds_left " << (d->not_after_ms - node.clock().unix_ms()) / 1000
          << "\n";
    }
    help(o, "f0_redials_total", "counter", "Redials after a link failed.");
    o << "f0_redials_total " << links.counters().redials << "\n";
    help(o, "f0_link_refused_total", "counter",
         "What peers sent on links that was refused or neutralised, by kind.");
    o << "f0_link_refused_total{kind=\"unknown_channel\"} " << links.channels_refused() << "\n"
      << "f0_link_refused_total{kind=\"control_not_utf8\"} " << links.counters().control_not_utf8
      << "\nf0_link_refused_total{kind=\"control_too_large\"} "
      << links.counters().control_too_large << "\n"
      << "f0_link_refused_total{kind=\"control_rate_limited\"} "
      << links.counters().control_rate_limited << "\n";
    help(o, "f0_ice_remote_candidates_ignored_total", "counter",
         "Remote ICE candidates ignored over the per-connection cap (16).");
    o << "f0_ice_remote_candidates_ignored_total "
      << rtc::ice::IceTransport::remote_candidates_refused() << "\n";
    help(o, "f0_sctp_sends_refused_total", "counter",
         "DataChannel sends refused: 16 MiB already queued behind the association's buffer.");
    o << "f0_sctp_sends_refused_total " << rtc::sctp::SctpAssociation::sends_refused_queue_full()
      << "\n";
    help(o, "f0_sctp_messages_refused_total", "counter",
         "Incoming DataChannel messages over our max-message-size: discarded whole (no piece "
         "delivered) and their channel closed.");
    o << "f0_sctp_messages_refused_total{reason=\"oversize\"} "
      << rtc::sctp::SctpAssociation::messages_refused_oversize() << "\n";
    auto dg = rtc::datagram::DatagramMux::counters();
    help(o, "f0_datagrams_total", "counter",
         "Datagrams beside SCTP (a=x-f0-datagram: the QoS probes between workers), by direction.");
    o << "f0_datagrams_total{direction=\"sent\"} " << dg.sent << "\n"
      << "f0_datagrams_total{direction=\"received\"} " << dg.received << "\n";
    help(o, "f0_datagrams_dropped_total", "counter",
         "Datagrams dropped: malformed, on a connection that takes none, or over 1024 bytes.");
    o << "f0_datagrams_dropped_total{reason=\"malformed\"} " << dg.dropped_malformed << "\n"
      << "f0_datagrams_dropped_total{reason=\"unhandled\"} " << dg.dropped_unhandled << "\n"
      << "f0_datagrams_dropped_total{reason=\"oversize\"} " << dg.refused_oversize << "\n";
    help(
        o, "f0_qos_probes_ignored_total", "counter",
        "QoS messages ignored: malformed, or beyond 65,536 distinct probes per link and interval.");
    o << "f0_qos_probes_ignored_total{reason=\"malformed\"} " << qos::QosProbe::malformed_total()
      << "\n"
      << "f0_qos_probes_ignored_total{reason=\"over_cap\"} " << qos::QosProbe::over_cap_total()
      << "\n";
    help(o, "f0_links_busy_total", "counter",
         "New links refused: --max-links (total) or --max-pending-links (pending) reached.");
    o << "f0_links_busy_total{cap=\"total\"} " << links.counters().refused_total << "\n"
      << "f0_links_busy_total{cap=\"pending\"} " << links.counters().refused_pending << "\n";
    help(o, "f0_signaling_rejected_total", "counter", "Signaling requests refused, by reason.");
    for (const auto& [code, n] : sc.rejected)
        o << "f0_signaling_rejected_total{reason=\"" << label_value(code) << "\"} " << n << "\n";
    help(o, "f0_link_rtt_ms", "gauge", "Link RTT from qos probes (latest interval).");
    help(o, "f0_link_jitter_ms", "gauge", "Link jitter, RFC 3550.");
    help(o, "f0_link_loss_pct", "gauge", "Inbound probe loss.");
    help(o, "f0_link_kbps", "gauge", "Bytes moved by the link.");
    help(o, "f0_link_health", "gauge", "1 for the link's current grade.");
    for (const auto& [peer, link] : links.all()) {
        if (!link.last_qos)
            continue;
        const auto& q = *link.last_qos;
        auto p = label_value(peer);
        auto lbl = "{peer=\"" + p + "\"}";
        if (q.rtt_ms)
            o << "f0_link_rtt_ms" << lbl << ' ' << *q.rtt_ms << "\n";
        o << "f0_link_jitter_ms" << lbl << ' ' << q.jitter_ms << "\n"
          << "f0_link_loss_pct" << lbl << ' ' << q.loss_pct << "\n"
          << "f0_link_kbps{peer=\"" << p << "\",direction=\"tx\"} " << q.tx_kbps << "\n"
          << "f0_link_kbps{peer=\"" << p << "\",direction=\"rx\"} " << q.rx_kbps << "\n"
          << "f0_link_health{peer=\"" << p << "\",grade=\"" << q.health << "\"} 1\n";
    }
    for (const auto& [peer, link] : links.all()) {
        if (!link.pc)
            continue;
        auto p = label_value(peer);
        for (const auto& ch : link.pc->channels()) {
            auto c = label_value(ch.label);
            o << "f0_link_bytes_sent_total{peer=\"" << p << "\",channel=\"" << c << "\"} "
              << ch.bytes_sent << "\n";
            o << "f0_link_bytes_received_total{peer=\"" << p << "\",channel=\"" << c << "\"} "
              << ch.bytes_received << "\n";
        }
    }
}

void gossip_metrics(std::ostream& o, const mesh::Node& node) {
    const auto& c = node.gossip().engine_counters();
    const auto& b = node.gossip().counters();
    help(o, "f0_gossip_messages_total", "counter", "Gossip messages by what happened to them.");
    for (auto [what, n] : {std::pair{"published", c.published},
                           {"delivered", c.delivered},
                           {"duplicate", c.duplicates},
                           {"forged", c.forged},
                           {"invalid", c.invalid},
                           {"replayed", c.replayed},
                           {"unknown_origin", c.unknown_origin},
                           {"rate_limited", c.rate_limited},
                           {"graylisted", c.graylisted},
                           {"duplicate_flood", c.duplicate_floods},
                           {"hop_limited", c.hop_limited}})
        o << "f0_gossip_messages_total{event=\"" << what << "\"} " << n << "\n";
    help(o, "f0_gossip_sent_total", "counter", "Gossip message frames sent, by path.");
    o << "f0_gossip_sent_total{via=\"datachannel\"} " << c.sent_link << "\n"
      << "f0_gossip_sent_total{via=\"https\"} " << c.sent_https << "\n"
      << "f0_gossip_sent_total{via=\"failed\"} " << c.send_failed << "\n";
    help(o, "f0_gossip_frames_total", "counter",
         "Gossip frames received, control frames sent, served.");
    o << "f0_gossip_frames_total{kind=\"received\"} " << c.frames_received << "\n"
      << "f0_gossip_frames_total{kind=\"received_https\"} " << b.https_in << "\n"
      << "f0_gossip_frames_total{kind=\"refused_https\"} " << b.https_refused << "\n"
      << "f0_gossip_frames_total{kind=\"ihave_sent\"} " << c.ihave_sent << "\n"
      << "f0_gossip_frames_total{kind=\"iwant_sent\"} " << c.iwant_sent << "\n"
      << "f0_gossip_frames_total{kind=\"served\"} " << c.served << "\n"
      << "f0_gossip_frames_total{kind=\"pushes\"} " << c.pushes << "\n";
    help(o, "f0_crdt_rejected_total", "counter",
         "Replicated updates refused (bad encoding, clock, key).");
    o << "f0_crdt_rejected_total " << node.replication().rejected() << "\n";
    help(o, "f0_crdt_lists", "gauge", "Replicated lists held.");
    o << "f0_crdt_lists " << node.replication().list_count() << "\n";
    help(o, "f0_crdt_syncs_total", "counter",
         "Anti-entropy requests from peers: answered, or deferred (over 4/s from one peer).");
    o << "f0_crdt_syncs_total{event=\"answered\"} " << node.replication().syncs_answered() << "\n"
      << "f0_crdt_syncs_total{event=\"deferred\"} " << node.replication().syncs_deferred() << "\n";
    help(o, "f0_registry_elements", "gauge",
         "Elements of the replicated registry (records and replaced records).");
    o << "f0_registry_elements " << node.replication().registry_size() << "\n";
    help(o, "f0_registry_evicted_total", "counter",
         "Replaced records forgotten beyond --registry-per-id.");
    o << "f0_registry_evicted_total " << node.replication().registry_evicted() << "\n";
    help(o, "f0_registry_refused_total", "counter",
         "Registry elements refused: not a signed record countersigned by a trusted registrar, or "
         "the registry full (--registry-max-elements).");
    o << "f0_registry_refused_total " << node.replication().registry_refused() << "\n";
    help(o, "f0_registry_conflicts_total", "counter",
         "Registrations of an id with another key than its first registration's: refused (or "
         "dropped when an earlier registration arrived later).");
    o << "f0_registry_conflicts_total " << node.replication().registry_conflicts() << "\n";
    help(o, "f0_registry_tombstones_refused_total", "counter",
         "Registry removals received and refused: no one removes a record, its owner replaces it.");
    o << "f0_registry_tombstones_refused_total " << node.replication().registry_tombstones()
      << "\n";
    help(o, "f0_registry_rebinds_total", "counter",
         "Peers bound here to another key than the mesh's first registration of their id, rebound "
         "to that one.");
    o << "f0_registry_rebinds_total " << node.replication().registry_rebinds() << "\n";
    std::size_t calm = 0, open = 0;
    for (const auto& [id, link] : node.links().all())
        if (link.state == mesh::LinkState::Open) {
            ++open;
            calm += link.qos_calm;
        }
    help(o, "f0_qos_links", "gauge",
         "Open links by QoS probing: calm (idle and healthy, probed every "
         "--qos-idle-probe-interval) or fast (every --qos-probe-interval).");
    o << "f0_qos_links{probing=\"calm\"} " << calm << "\n"
      << "f0_qos_links{probing=\"fast\"} " << open - calm << "\n";
    const auto& qc = node.qos().counters();
    help(o, "f0_qos_probing_changes_total", "counter", "Links that went calm, or fast again.");
    o << "f0_qos_probing_changes_total{to=\"calm\"} " << qc.to_calm << "\n"
      << "f0_qos_probing_changes_total{to=\"fast\"} " << qc.to_fast << "\n";
    help(o, "f0_qos_echo_overdue_total", "counter",
         "Calm links that went fast at once because an echo was overdue.");
    o << "f0_qos_echo_overdue_total " << qc.overdue << "\n";
    const auto& view = node.view();
    const auto& ls = view.book().counters();
    help(o, "f0_linkstate_senders", "gauge",
         "Link-state summaries held (one per worker heard from; at most 10,000, expiring).");
    o << "f0_linkstate_senders " << view.book().size() << "\n";
    help(o, "f0_linkstate_total", "counter",
         "Link-state summaries delivered: stored, stale (older than the one held), invalid "
         "(refused whole), evicted (the book full), expired (not renewed).");
    for (auto [event, n] : {std::pair{"stored", ls.stored},
                            {"stale", ls.stale},
                            {"invalid", ls.invalid},
                            {"evicted", ls.evicted},
                            {"expired", ls.expired}})
        o << "f0_linkstate_total{event=\"" << event << "\"} " << n << "\n";
    help(o, "f0_linkstate_published_total", "counter",
         "This worker's link-state summaries published, or that could not be.");
    o << "f0_linkstate_published_total{result=\"ok\"} " << view.counters().published << "\n"
      << "f0_linkstate_published_total{result=\"failed\"} " << view.counters().publish_failed
      << "\n";
    help(
        o, "f0_linkstate_published_on_change_total", "counter",
        "Of those, the ones published soon after a link opened or went down (not at a QoS round).");
    o << "f0_linkstate_published_on_change_total " << view.counters().on_change << "\n";
    // Per linked peer only: the registry may hold 100,000 peers, the links are capped.
    help(o, "f0_peer_trust", "gauge", "Trust score of each linked peer.");
    auto now = node.clock().unix_ms();
    for (const auto& [id, link] : node.links().all()) // same id order as the registry
        if (id != node.config().id && node.peers().find(id))
            o << "f0_peer_trust{peer=\"" << label_value(id) << "\"} "
              << node.gossip().trust().trust(id, now) << "\n";
}
} // namespace

std::string metrics_text(const mesh::Node& node) {
    std::ostringstream o;
    link_metrics(o, node);
    gossip_metrics(o, node);
    return o.str();
}

} // namespace f0::api
