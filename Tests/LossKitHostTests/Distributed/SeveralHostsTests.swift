import Foundation
import LossKitHost
import XCTest

/// A data-parallel run across two hosts: two network namespaces on this machine, each with its
/// own network stack on a bridge, stand in for two machines. mpirun reads a hostfile of their
/// addresses and starts its daemon on each through a launch agent (what ssh does between
/// machines; here `ip netns exec`), and the ranks talk over TCP, as on a cluster without shared
/// memory between nodes. Needs root (CI runs as root), as creating namespaces does.
final class SeveralHostsTests: XCTestCase {
    private var data = ""
    private var work = ""
    private var runs: [String] = []
    private let suffix = String(UInt32.random(in: 0..<0xFFFF), radix: 16)
    private var namespaces: [String] { ["lkns1\(suffix)", "lkns2\(suffix)"] }
    private var bridge: String { "lkbr\(suffix)" }
    private let subnet = "10.209.77"

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("network namespaces need root; CI runs this as root") }
        _ = try BuiltPlugins.executable()
        data = try SyntheticData.makeFolder(train: 240, test: 40)
        work = try PluginFixtures.makeFolder()
        try makeHosts()
    }

    override func tearDown() {
        for ns in namespaces { _ = ip(["netns", "del", ns]) }
        _ = ip(["link", "del", bridge])
        for path in [data, work] + runs where !path.isEmpty { try? FileManager.default.removeItem(atPath: path) }
    }

    @discardableResult
    private func ip(_ args: [String]) -> (Int32, String) { PluginFixtures.run("/usr/sbin/ip", args) }

    /// Two namespaces on one bridge, 10.209.77.2 and .3, the bridge .1; a launch agent that runs
    /// a command "on" an address inside its namespace; a hostfile of the two addresses.
    private func makeHosts() throws {
        func must(_ args: [String]) throws {
            let (status, out) = ip(args)
            guard status == 0 else { throw NSError(domain: "ip", code: Int(status), userInfo: [NSLocalizedDescriptionKey: "ip \(args.joined(separator: " ")): \(out)"]) }
        }
        try must(["link", "add", bridge, "type", "bridge"])
        try must(["addr", "add", "\(subnet).1/24", "dev", bridge])
        try must(["link", "set", bridge, "up"])
        var agent = "#!/bin/sh\nhost=$1; shift\ncase \"$host\" in\n"
        for (i, ns) in namespaces.enumerated() {
            let outside = "lkv\(i + 1)\(suffix)", inside = "lkp\(i + 1)\(suffix)", address = "\(subnet).\(i + 2)"
            try must(["netns", "add", ns])
            try must(["link", "add", outside, "type", "veth", "peer", "name", inside])
            try must(["link", "set", inside, "netns", ns])
            try must(["link", "set", outside, "master", bridge])
            try must(["link", "set", outside, "up"])
            try must(["netns", "exec", ns, "ip", "addr", "add", "\(address)/24", "dev", inside])
            try must(["netns", "exec", ns, "ip", "link", "set", inside, "up"])
            try must(["netns", "exec", ns, "ip", "link", "set", "lo", "up"])
            // Both "hosts" share this machine's /tmp and host name, so Open MPI's daemons would
            // make the same session directory at once (a race that failed the test with "mkdir:
            // File exists" under load): each host gets a session directory base of its own.
            let sessions = work + "/sessions\(i + 1)"
            try FileManager.default.createDirectory(atPath: sessions, withIntermediateDirectories: true)
            agent += "  \(address)) exec /usr/sbin/ip netns exec \(ns) env OMPI_MCA_orte_tmpdir_base=\(sessions) sh -c \"$*\" ;;\n"
        }
        agent += "  *) echo \"no host $host\" >&2; exit 1 ;;\nesac\n"
        try agent.write(toFile: work + "/agent.sh", atomically: true, encoding: .utf8)
        chmod(work + "/agent.sh", 0o755)
        try "\(subnet).2 slots=1\n\(subnet).3 slots=1\n".write(toFile: work + "/hosts", atomically: true, encoding: .utf8)
    }

    /// The same run on two "hosts" over TCP and on two ranks of this machine over shared memory
    /// gives the same checkpoint, bit for bit (NCE's gathered bank included): the transport does
    /// not change a sum of two.
    func testTwoHostsOverTCPTrainWhatTwoLocalRanksTrain() throws {
        let remote = SyntheticData.runFolder(), local = SyntheticData.runFolder()
        runs += [remote, local]
        let loss = "ce + 0.5*nce(negatives=16, dim=8)"
        let mpirun = ["--allow-run-as-root", "-np", "2", "--hostfile", work + "/hosts", "--mca", "plm_rsh_agent", work + "/agent.sh",
                      "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "\(subnet).0/24", "--mca", "oob_tcp_if_include", "\(subnet).0/24"]
        let two = MPIJob.run(launcher: mpirun, MPIJob.trainArguments(data: data, out: remote, loss: loss, steps: 6, extra: ["--checkpoint-every", "3"]), seconds: 120)
        XCTAssertFalse(two.timedOut, two.output)
        XCTAssertEqual(two.status, 0, two.output)
        XCTAssertTrue(two.output.contains("2 ranks of 16 rows"), two.output)
        let here = MPIJob.run(ranks: 2, MPIJob.trainArguments(data: data, out: local, loss: loss, steps: 6, extra: ["--checkpoint-every", "3"]))
        XCTAssertEqual(here.status, 0, here.output)
        let a = try MPIJob.tensors(remote), b = try MPIJob.tensors(local)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for name in a.keys { XCTAssertEqual(a[name], b[name], "\(name) differs between TCP across hosts and shared memory") }
    }
}
