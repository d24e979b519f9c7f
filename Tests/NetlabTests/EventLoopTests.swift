// The event loop on its own: descriptors, timers, hooks, and a stop from
// another thread that wakes a wait with nothing else to do. These run on the
// default backend (epoll); scripts/test.sh runs them again with NETLAB_LOOP=poll.
import CNetlab
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) var onFreshHolder: nl_loop_io_fn?

final class LoopBox {
    var events: [String] = []
    var loop: OpaquePointer?
}

final class EventLoopTests: XCTestCase {
    func testTimersRunInOrderAndRepeat() throws {
        var loop: OpaquePointer?
        XCTAssertEqual(nl_loop_create(&loop, nil), 0)
        defer { nl_loop_destroy(loop) }
        let box = LoopBox()
        box.loop = loop
        let ud = Unmanaged.passUnretained(box).toOpaque()
        let record: nl_loop_fn = { _, ud in
            let b = Unmanaged<LoopBox>.fromOpaque(ud!).takeUnretainedValue()
            b.events.append("tick")
            if b.events.filter({ $0 == "tick" }).count == 3 { nl_loop_stop(b.loop) }
        }
        let once: nl_loop_fn = { _, ud in
            Unmanaged<LoopBox>.fromOpaque(ud!).takeUnretainedValue().events.append("once")
        }
        XCTAssertGreaterThan(nl_loop_timer(loop, 1, 0, once, ud, nil), 0)
        XCTAssertGreaterThan(nl_loop_timer(loop, 20, 20, record, ud, nil), 0)
        let cancelled = nl_loop_timer(loop, 5, 0, once, ud, nil)
        nl_loop_timer_cancel(loop, cancelled)
        XCTAssertEqual(nl_loop_run(loop, nil), 0)
        XCTAssertEqual(box.events, ["once", "tick", "tick", "tick"])
    }

    func testDescriptorCallbackAndRemovalInsideIt() throws {
        var loop: OpaquePointer?
        XCTAssertEqual(nl_loop_create(&loop, nil), 0)
        defer { nl_loop_destroy(loop) }
        var sv: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sv), 0)
        defer { close(sv[0]); close(sv[1]) }
        let box = LoopBox()
        box.loop = loop
        let onReadable: nl_loop_io_fn = { loop, fd, revents, ud in
            let b = Unmanaged<LoopBox>.fromOpaque(ud!).takeUnretainedValue()
            var buf = [UInt8](repeating: 0, count: 16)
            let n = read(fd, &buf, 16)
            b.events.append("read \(n)")
            nl_loop_remove(loop, fd) // removal inside its own callback
            nl_loop_stop(loop)
        }
        XCTAssertEqual(nl_loop_add(loop, sv[0], Int32(POLLIN), onReadable, Unmanaged.passUnretained(box).toOpaque(), nil), 0)
        XCTAssertEqual(nl_loop_count(loop), 1)
        XCTAssertEqual(nl_loop_add(loop, sv[0], Int32(POLLIN), onReadable, nil, nil), NL_EEXIST.rawValue)
        _ = write(sv[1], "abc", 3)
        XCTAssertEqual(nl_loop_run(loop, nil), 0)
        XCTAssertEqual(box.events, ["read 3"])
        XCTAssertEqual(nl_loop_count(loop), 0)
    }

    final class Reuse {
        var loop: OpaquePointer?
        var pairs: [[Int32]] = []
        var first: Int32 = -1
        var fresh: [Int32] = []
        var calls: [String] = []
    }

    /// A callback removes and closes another ready descriptor and a new one takes its number in the
    /// same pass: the new registration must not get the old one's event.
    func testEventOfARemovedDescriptorDoesNotReachItsSuccessor() throws {
        var loop: OpaquePointer?
        XCTAssertEqual(nl_loop_create(&loop, nil), 0)
        defer { nl_loop_destroy(loop) }
        let r = Reuse()
        r.loop = loop
        for _ in 0..<2 {
            var sv: [Int32] = [0, 0]
            XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sv), 0)
            r.pairs.append(sv)
            _ = write(sv[1], "x", 1) // both readable before the first wait
        }
        let ud = Unmanaged.passUnretained(r).toOpaque()
        let onFresh: nl_loop_io_fn = { _, fd, revents, ud in
            let r = Unmanaged<Reuse>.fromOpaque(ud!).takeUnretainedValue()
            var b = [UInt8](repeating: 0, count: 8)
            let n = recv(fd, &b, 8, Int32(MSG_DONTWAIT))
            r.calls.append("fresh \(revents) read \(n)")
        }
        let onOld: nl_loop_io_fn = { loop, fd, _, ud in
            let r = Unmanaged<Reuse>.fromOpaque(ud!).takeUnretainedValue()
            r.calls.append("old")
            if r.first >= 0 { return }
            r.first = fd
            var b = [UInt8](repeating: 0, count: 8)
            _ = read(fd, &b, 8)
            // Remove and close the other ready one, then reuse its number at once.
            let other = r.pairs[0][0] == fd ? r.pairs[1][0] : r.pairs[0][0]
            nl_loop_remove(loop, other)
            close(other)
            var sv: [Int32] = [0, 0]
            _ = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sv)
            r.fresh = sv
            XCTAssertEqual(nl_loop_add(loop, sv[0], Int32(POLLIN), onFreshHolder!, ud, nil), 0)
        }
        onFreshHolder = onFresh
        for p in r.pairs { XCTAssertEqual(nl_loop_add(loop, p[0], Int32(POLLIN), onOld, ud, nil), 0) }
        let stop: nl_loop_fn = { loop, _ in nl_loop_stop(loop) }
        XCTAssertGreaterThan(nl_loop_timer(loop, 100, 0, stop, nil, nil), 0)
        XCTAssertEqual(nl_loop_run(loop, nil), 0)
        defer {
            close(r.first); close(r.pairs[0][1]); close(r.pairs[1][1])
            if r.fresh.count == 2 { close(r.fresh[0]); close(r.fresh[1]) }
        }
        XCTAssertEqual(r.fresh.count, 2)
        XCTAssertTrue(r.fresh.contains(r.pairs[0][0]) || r.fresh.contains(r.pairs[1][0]),
                      "the new socket reused the closed descriptor's number")
        XCTAssertEqual(r.calls, ["old"], "nothing reached the new registration: it never became readable")
    }

    func testBackendIsChosenByNETLAB_LOOP() throws {
        var loop: OpaquePointer?
        XCTAssertEqual(nl_loop_create_backend(&loop, Int32(NL_LOOP_POLL.rawValue), nil), 0)
        XCTAssertEqual(String(cString: nl_loop_backend_name(loop)), "poll")
        nl_loop_destroy(loop)
        XCTAssertEqual(nl_loop_create_backend(&loop, Int32(NL_LOOP_EPOLL.rawValue), nil), 0)
        XCTAssertEqual(String(cString: nl_loop_backend_name(loop)), "epoll")
        nl_loop_destroy(loop)
        XCTAssertEqual(nl_loop_create(&loop, nil), 0)
        let env = ProcessInfo.processInfo.environment["NETLAB_LOOP"]
        XCTAssertEqual(String(cString: nl_loop_backend_name(loop)), env == "poll" ? "poll" : "epoll")
        nl_loop_destroy(loop)
    }

    func testStopFromAnotherThreadWakesPoll() throws {
        var loop: OpaquePointer?
        XCTAssertEqual(nl_loop_create(&loop, nil), 0)
        defer { nl_loop_destroy(loop) }
        // Nothing to wait for: without the wake-up, poll() would block forever.
        let l = UInt(bitPattern: loop.map { UnsafeRawPointer($0) })
        let t = Thread { usleep(50_000); nl_loop_stop(OpaquePointer(bitPattern: l)) }
        t.start()
        XCTAssertEqual(nl_loop_run(loop, nil), 0)
    }
}

/// poll() backend: hundreds of idle descriptors go cold; one of them still gets its event while another stays busy.
final class LoopHotColdTests: XCTestCase {
    final class State {
        var loop: OpaquePointer?
        var pairs: [[Int32]] = []
        var busyWrites = 0
        var coldEvents = 0
        var hotBefore = -1
        var written = false
    }

    func testColdDescriptorIsServedWhileOthersAreBusy() throws {
        var loop: OpaquePointer?
        XCTAssertEqual(nl_loop_create_backend(&loop, Int32(NL_LOOP_POLL.rawValue), nil), 0)
        defer { nl_loop_destroy(loop) }
        let st = State()
        st.loop = loop
        let ud = Unmanaged.passUnretained(st).toOpaque()
        // 600 idle socket pairs (one end watched each) and one busy pair.
        for _ in 0..<601 {
            var sv: [Int32] = [0, 0]
            XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sv), 0)
            st.pairs.append(sv)
        }
        defer { for p in st.pairs { close(p[0]); close(p[1]) } }
        let onCold: nl_loop_io_fn = { loop, fd, _, ud in
            let s = Unmanaged<State>.fromOpaque(ud!).takeUnretainedValue()
            var b = [UInt8](repeating: 0, count: 8)
            _ = read(fd, &b, 8)
            s.coldEvents += 1
            nl_loop_stop(loop)
        }
        let onBusy: nl_loop_io_fn = { _, fd, _, _ in
            var b = [UInt8](repeating: 0, count: 64)
            _ = read(fd, &b, 64)
        }
        for p in st.pairs.dropLast() {
            XCTAssertEqual(nl_loop_add(loop, p[0], Int32(POLLIN), onCold, ud, nil), 0)
        }
        XCTAssertEqual(nl_loop_add(loop, st.pairs.last![0], Int32(POLLIN), onBusy, ud, nil), 0)
        // Keep one descriptor busy every millisecond; after 1.5 s, poke an idle one.
        let tick: nl_loop_fn = { _, ud in
            let s = Unmanaged<State>.fromOpaque(ud!).takeUnretainedValue()
            _ = write(s.pairs.last![1], "b", 1)
            s.busyWrites += 1
            if s.busyWrites >= 1500 && !s.written {
                s.hotBefore = Int(nl_loop_hot(s.loop))
                _ = write(s.pairs[300][1], "c", 1)
                s.written = true
            }
            if s.busyWrites > 60_000 { nl_loop_stop(s.loop) } // failure guard, never a pass condition
        }
        XCTAssertGreaterThan(nl_loop_timer(loop, 1, 1, tick, ud, nil), 0)
        XCTAssertEqual(nl_loop_run(loop, nil), 0)
        XCTAssertTrue(st.written)
        XCTAssertLessThan(st.hotBefore, 600, "idle descriptors went cold (hot: \(st.hotBefore))")
        XCTAssertEqual(st.coldEvents, 1, "the cold descriptor's event was delivered")
    }
}
