import Foundation
import Telemetry

/// Every live workspace of the process, by handle: mints new ones, resolves the handles clients pass back (refusing
/// forged, foreign and expired ones with a message saying what to do), and deletes workspaces left idle.
public actor WorkspaceStore {
    private struct Entry {
        let workspace: Workspace
        var lastUsed: ContinuousClock.Instant
        /// Calls running in the workspace: it never expires under them.
        var leases: Int
        /// A handshake-era session's default workspace lives as long as its session, idle or not.
        var pinned: Bool
        /// The caller's owner fingerprint, for the per-client cap.
        let owner: String
        /// Pinned, or named again by its handle after the call that made it: until then it is provisional and expires
        /// after `provisionalIdle`, so calls that never come back do not pile up workspaces and workers.
        var established: Bool
    }

    public nonisolated let handles: WorkspaceHandles
    private let provider: SandboxProvider
    private let idleLimit: Duration
    private let provisionalIdle: Duration
    /// Workspaces one client (owner) keeps; beyond it its least recently used idle one is closed.
    private let maxPerOwner: Int
    /// By handle (a handle is a deterministic function of its claims, so it is as good a key as the id inside).
    private var entries: [String: Entry] = [:] {
        // TELEMETRY HOOK: rlm_workspaces_open follows the count (a didSet without oldValue keeps in-place mutation).
        didSet {
            let delta = entries.count - reportedCount
            if delta != 0 { reportedCount = entries.count; RLMMetrics.global.workspacesOpen(delta: delta) }
        }
    }
    private var reportedCount = 0
    /// Handles of workspaces deleted for idling, so a late handle gets "expired" rather than "unknown".
    private var expired: Set<String> = []
    private var sweeper: Task<Void, Never>?
    private var closed = false

    /// Whether a valid handle this process does not know is taken on as its own (see `lease`).
    private let adoptsUnknownHandles: Bool

    /// `adoptsUnknownHandles`: for a backend whose sandboxes outlive a process and can be found again from the handle
    /// (a remote sandbox labelled with the workspace id, or the handle's signed reference), so that replicas sharing
    /// `RLM_WORKSPACE_KEY` serve each other's workspaces. Off for the local backend, whose sandboxes die with it.
    public init(handles: WorkspaceHandles, provider: SandboxProvider, idleLimit: Duration, adoptsUnknownHandles: Bool = false,
                maxPerOwner: Int = .max, provisionalIdle: Duration = .seconds(60)) {
        self.handles = handles
        self.provider = provider
        self.idleLimit = idleLimit
        self.provisionalIdle = min(provisionalIdle, idleLimit)
        self.maxPerOwner = max(1, maxPerOwner)
        self.adoptsUnknownHandles = adoptsUnknownHandles
    }

    public var count: Int { entries.count }

    /// A new, empty workspace owned by `owner` (its sandbox starts on first use).
    public func create(owner: String, pinned: Bool = false) async -> Workspace {
        await makeRoom(for: owner)
        let minted = handles.mint(owner: owner)
        let workspace = Workspace(provider: provider, handle: minted.handle, id: minted.claims.id, shared: adoptsUnknownHandles && !pinned)
        entries[minted.handle] = Entry(workspace: workspace, lastUsed: .now, leases: 0, pinned: pinned, owner: owner, established: pinned)
        startSweeperIfNeeded()
        return workspace
    }

    /// A new workspace for one call that named none (2026-07-28), leased for that call; pair with `release`. It stays
    /// provisional until its handle comes back in a later call.
    public func createForCall(owner: String) async -> Workspace {
        let workspace = await create(owner: owner)
        entries[workspace.handle]?.leases += 1
        return workspace
    }

    /// Closes the owner's least recently used idle, unpinned workspace while the owner is at its cap.
    private func makeRoom(for owner: String) async {
        let mine = entries.filter { $0.value.owner == owner && !$0.value.pinned }
        guard mine.count >= maxPerOwner,
              let oldest = mine.filter({ $0.value.leases == 0 }).min(by: { $0.value.lastUsed < $1.value.lastUsed })
        else { return }
        entries[oldest.key] = nil
        expired.insert(oldest.key)
        await oldest.value.workspace.close()
    }

    /// The workspace a handle names, leased for one call; pair with `release`.
    public func lease(handle: String, owner: String) async throws(ToolError) -> Workspace {
        // A handle found here for the same owner was verified when it was minted or adopted: the exact string is the
        // proof, and the HMAC is not computed again on every call. Any other handle (or owner) is verified.
        var claims: WorkspaceHandles.Claims?
        if entries[handle]?.owner != owner {
            do {
                claims = try handles.verify(handle, owner: owner)
            } catch {
                throw ToolError("workspace \"\(handle.prefix(80))\" \(error); omit `workspace` to get a new one")
            }
        }
        // Expire lazily too, so the outcome does not depend on when the sweeper last ran.
        if let entry = entries[handle], isStale(entry, now: .now) {
            entries[handle] = nil
            expired.insert(handle)
            await entry.workspace.close()
        }
        if entries[handle] == nil, adoptsUnknownHandles, !expired.contains(handle), let claims {
            // Issued by a replica sharing the key (the signature proved it): serve it here from now on.
            entries[handle] = Entry(workspace: Workspace(provider: provider, handle: handle, id: claims.id, reference: claims.reference, shared: true),
                                    lastUsed: .now, leases: 0, pinned: false, owner: owner, established: true)
            startSweeperIfNeeded()
        }
        guard var entry = entries[handle] else {
            if expired.contains(handle) {
                throw ToolError("workspace \(handle) has expired: it was unused for more than \(idleLimit.components.seconds) s "
                    + "(RLM_WORKSPACE_IDLE_S) and was deleted with its files and REPLs; omit `workspace` to start a new one")
            }
            throw ToolError("workspace \(handle) no longer exists on this server (it expired, its session ended, or the server "
                + "restarted); omit `workspace` to start a new one")
        }
        entry.leases += 1
        entry.lastUsed = .now
        entry.established = true
        entries[handle] = entry
        return entry.workspace
    }

    /// Marks the lease taken for the call over, counting the idle time from now.
    public func release(_ workspace: Workspace) {
        guard var entry = entries[workspace.handle] else { return }
        entry.leases = max(0, entry.leases - 1)
        entry.lastUsed = .now
        entries[workspace.handle] = entry
    }

    /// Deletes a workspace now (a handshake-era session ended).
    public func close(_ workspace: Workspace) async {
        entries[workspace.handle] = nil
        await workspace.close()
    }

    /// Deletes workspaces unused for longer than the idle limit.
    public func expireIdle() async {
        let now = ContinuousClock.now
        let stale = entries.filter { isStale($0.value, now: now) }
        for (id, entry) in stale {
            entries[id] = nil
            expired.insert(id)
            await entry.workspace.close()
        }
        if expired.count > 100_000 { expired.removeAll() }  // bounded memory; late handles then read "no longer exists"
    }

    private func isStale(_ entry: Entry, now: ContinuousClock.Instant) -> Bool {
        !entry.pinned && entry.leases == 0 && now - entry.lastUsed > (entry.established ? idleLimit : provisionalIdle)
    }

    /// Deletes every workspace (shutdown).
    public func closeAll() async {
        closed = true
        sweeper?.cancel()
        let all = entries.values.map(\.workspace)
        entries.removeAll()
        for workspace in all { await workspace.close() }
    }

    private func startSweeperIfNeeded() {
        guard sweeper == nil, !closed else { return }
        let interval = Duration.seconds(max(1, min(30, provisionalIdle.components.seconds / 4)))
        sweeper = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await self?.expireIdle()
            }
        }
    }
}
