// docs/PROTOCOL.md's worked example, checked against the worker's code so the document cannot
// drift.
#include "mesh/identity/signed_envelope.hpp"

#include <gtest/gtest.h>

using namespace f0::mesh::identity;

TEST(ProtocolExample, TheDocumentedSignatureVerifies) {
    Envelope e;
    e.peer_from = "fz-kuwait";
    e.peer_to = "fz-cairo";
    e.type = "offer";
    e.sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP "
            "webrtc-datachannel\r\n";
    e.ts_ms = 1760270000000;
    e.nonce = "AAECAwQFBgcICQoLDA0ODw==";
    e.sig =
        "+o17Me+wRalN3RqFenrnRetpSmdv44bVWQyoN5C/RSSX4BBuzTYWW8eDnh+xlIb9dkorVcGBquLTs9EAPgodDA==";
    EXPECT_EQ(
        e.signing_input(),
        "{\"nonce\":\"AAECAwQFBgcICQoLDA0ODw==\",\"peerFrom\":\"fz-kuwait\",\"peerTo\":\"fz-"
        "cairo\","
        "\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\nm=application 9 "
        "UDP/DTLS/SCTP webrtc-datachannel\\r\\n\",\"ts\":1760270000000,\"type\":\"offer\"}");
    auto key = parse_public_key("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=");
    ASSERT_TRUE(key);
    EXPECT_TRUE(e.verify(key.value()));
    e.ts_ms += 1;
    EXPECT_FALSE(e.verify(key.value()));
}
