"""Snapshot welcomes: encoded once per member and seq, spliced into the welcome frame."""

from __future__ import annotations

from accord.protocol import codec, views
from accord.protocol import commands as C
from accord.protocol.messages import Hello, Welcome
from accord.protocol.model import new_session
from accord.server.relay import Relay
from accord.server.snapshots import welcome_frame
from server_support import WireClient, same_board


def test_spliced_welcome_decodes_like_an_encoded_one() -> None:
    """A welcome with a pre-encoded snapshot decodes to the same message as one encoded whole."""
    session = new_session("s1", "Build or buy?", 1.0)
    whole = Welcome(
        session_id="s1",
        member_id="m1",
        role="facilitator",
        epoch="e1",
        seq=0,
        mode="snapshot",
        snapshot=views.project_session(session, "m1"),
        token="t",
        online=["m1"],
        server_time=2.0,
    )
    bare = Welcome(
        session_id="s1",
        member_id="m1",
        role="facilitator",
        epoch="e1",
        seq=0,
        mode="snapshot",
        token="t",
        online=["m1"],
        server_time=2.0,
    )
    blob = codec.encode_plain(views.project_session(session, "m1"))
    assert codec.decode_server(welcome_frame(bare, blob)) == codec.decode_server(
        codec.encode(whole)
    )


async def test_repeated_full_board_hellos_hit_the_cache_and_stay_private(relay: Relay) -> None:
    """The same member asking again at the same seq gets cached bytes; others get their own view."""
    fac = await WireClient.create(relay.url)
    pat = await WireClient.join(relay.url, fac.secrets.participant_code, "Pat")
    await fac.ok(C.AddCard(lane="value", text="a card"))
    await fac.ok(C.OpenVote(kind="dots", hidden=True))
    assert fac.session is not None
    vote_id = next(iter(fac.session.votes))
    card_id = next(iter(fac.session.cards))
    await pat.ok(C.Cast(vote_id=vote_id, marks={card_id: 2}))
    await fac.catch_up(pat.seq)
    host = relay.hub.hosts[fac.welcome.session_id]  # type: ignore[union-attr]
    hits = host._snapshots.hits
    frames = []
    for client in (pat, pat, pat, fac):
        again = await WireClient.open(relay.url)
        await again.send(Hello(token=client.token))
        await again.expect_welcome()
        assert same_board(host.session, again)
        frames.append(again.raw[0])
        await again.close()
    assert host._snapshots.hits >= hits + 2
    pat_view = codec.decode_server(frames[0])
    fac_view = codec.decode_server(frames[3])
    assert isinstance(pat_view, Welcome) and isinstance(fac_view, Welcome)
    assert pat_view.snapshot is not None and fac_view.snapshot is not None
    assert pat_view.snapshot.votes[vote_id].ballots  # Pat sees Pat's own hidden ballot
    assert not fac_view.snapshot.votes[vote_id].ballots  # the facilitator does not
