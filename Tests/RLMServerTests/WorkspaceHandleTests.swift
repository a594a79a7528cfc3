import Foundation
import RLMConfig
import Testing
@testable import RLMServer

@Suite struct WorkspaceHandleTests {
    let handles = WorkspaceHandles(secret: "0123456789abcdef0123456789abcdef-test-key")

    @Test func mintedHandlesVerifyForTheirOwnerAndAreUnguessable() throws {
        let owner = handles.owner(forToken: "token-a")
        let minted = handles.mint(owner: owner)
        let (handle, claims) = (minted.handle, minted.claims)
        #expect(handle.hasPrefix("ws_"))
        #expect(try handles.verify(handle, owner: owner) == claims)
        #expect(claims.id.count >= 22)  // 128 random bits, base64url
        let other = handles.mint(owner: owner).handle
        #expect(other != handle)
        #expect(!handle.contains("token-a"))
    }

    @Test func aHandleForAnotherTokenIsForeign() throws {
        let handle = handles.mint(owner: handles.owner(forToken: "token-a")).handle
        #expect(throws: WorkspaceHandles.Rejection.foreign) { try handles.verify(handle, owner: handles.owner(forToken: "token-b")) }
        #expect(throws: WorkspaceHandles.Rejection.foreign) { try handles.verify(handle, owner: handles.owner(forToken: nil)) }
    }

    @Test func alteredOrForeignKeyHandlesAreForged() throws {
        let minted = handles.mint(owner: "")
        let (handle, claims) = (minted.handle, minted.claims)
        // Same claims, another key: the signature does not verify.
        let elsewhere = WorkspaceHandles(secret: "another-key-another-key-another-key!!")
        #expect(throws: WorkspaceHandles.Rejection.forged) { try handles.verify(elsewhere.sign(claims), owner: "") }
        // Claims rewritten (e.g. to take someone else's id) without the key: refused.
        let forged = WorkspaceHandles.Claims(id: "AAAAAAAAAAAAAAAAAAAAAA", owner: "", reference: nil)
        #expect(throws: WorkspaceHandles.Rejection.forged) { try handles.verify(elsewhere.sign(forged), owner: "") }
        // One flipped character in the MAC.
        var flipped = Array(handle)
        flipped[flipped.count - 3] = flipped[flipped.count - 3] == "A" ? "B" : "A"
        #expect(throws: WorkspaceHandles.Rejection.forged) { try handles.verify(String(flipped), owner: "") }
    }

    @Test func onlyTheCanonicalEncodingIsAHandle() throws {
        let handle = handles.mint(owner: "").handle
        // The MAC's last base64url character carries two spare bits: flipping them keeps the bytes, not the handle.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = alphabet.firstIndex(of: handle.last!)!
        let variant = String(handle.dropLast()) + String(alphabet[last ^ 1])
        #expect(throws: WorkspaceHandles.Rejection.malformed) { try handles.verify(variant, owner: "") }
    }

    @Test func garbageIsMalformed() {
        for junk in ["", "ws_", "workspace-1", "ws_abc", "ws_a.b.c", "ws_!!!.???", String(repeating: "ws_x", count: 1000)] {
            #expect(throws: WorkspaceHandles.Rejection.malformed) { try handles.verify(junk, owner: "") }
        }
    }

    @Test func replicasSharingTheKeyAcceptEachOthersHandlesWithTheirReference() throws {
        let replicaA = WorkspaceHandles(secret: "shared-secret-shared-secret-shared-secret")
        let replicaB = WorkspaceHandles(secret: "shared-secret-shared-secret-shared-secret")
        let owner = replicaA.owner(forToken: "tok")
        #expect(owner == replicaB.owner(forToken: "tok"))
        let minted = replicaA.mint(owner: owner, reference: "sandbox-123")
        let (handle, claims) = (minted.handle, minted.claims)
        #expect(try replicaB.verify(handle, owner: owner) == claims)
        #expect(claims.reference == "sandbox-123")
    }

    @Test func withoutAKeyEachProcessSignsDifferently() {
        let handle = WorkspaceHandles(secret: nil).mint(owner: "").handle
        #expect(throws: WorkspaceHandles.Rejection.forged) { try WorkspaceHandles(secret: nil).verify(handle, owner: "") }
    }

    @Test func configRefusesAShortKeyWithoutEchoingIt() throws {
        let short = "too-short-secret"
        #expect {
            _ = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: ["RLM_WORKSPACE_KEY": short])]))
        } throws: { error in
            "\(error)".contains("RLM_WORKSPACE_KEY") && !"\(error)".contains(short)
        }
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: ["RLM_WORKSPACE_KEY": String(repeating: "k", count: 32)])]))
        #expect(config.workspaceKey?.exposedValue.count == 32)
    }
}

@Suite struct WorkspaceStoreTests {
    private func store(idle: Duration = .seconds(900)) throws -> WorkspaceStore {
        let config = try RLMConfig(variables: LayeredVariables(layers: []))
        return WorkspaceStore(handles: WorkspaceHandles(secret: nil), provider: SandboxProvider(config: config), idleLimit: idle)
    }

    @Test func leasesResolveTheSameWorkspace() async throws {
        let store = try store()
        let workspace = await store.create(owner: "o")
        let leased = try await store.lease(handle: workspace.handle, owner: "o")
        #expect(leased === workspace)
        await store.release(leased)
        #expect(await store.count == 1)
    }

    @Test func foreignForgedAndUnknownHandlesGiveToolErrorsSayingWhatToDo() async throws {
        let store = try store()
        let workspace = await store.create(owner: "o")
        await #expect { try await store.lease(handle: workspace.handle, owner: "other") } throws: { error in
            (error as? ToolError)?.message.contains("belongs to another client") == true
        }
        await #expect { try await store.lease(handle: "ws_nope.nope", owner: "o") } throws: { error in
            (error as? ToolError)?.message.contains("omit `workspace`") == true
        }
        await store.close(workspace)
        await #expect { try await store.lease(handle: workspace.handle, owner: "o") } throws: { error in
            (error as? ToolError)?.message.contains("no longer exists") == true
        }
    }

    @Test func idleWorkspacesExpireButLeasedAndPinnedOnesDoNot() async throws {
        let store = try store(idle: .milliseconds(50))
        let idle = await store.create(owner: "")
        let pinned = await store.create(owner: "", pinned: true)
        let busy = await store.create(owner: "")
        _ = try await store.lease(handle: busy.handle, owner: "")
        try await Task.sleep(for: .milliseconds(120))
        await #expect { try await store.lease(handle: idle.handle, owner: "") } throws: { error in
            (error as? ToolError)?.message.contains("has expired") == true
        }
        #expect(try await store.lease(handle: pinned.handle, owner: "") === pinned)
        await store.expireIdle()
        #expect(await store.count == 2)  // busy is still leased, pinned is pinned
        await store.release(busy)
        try await Task.sleep(for: .milliseconds(120))
        await store.expireIdle()
        await #expect { try await store.lease(handle: busy.handle, owner: "") } throws: { error in
            (error as? ToolError)?.message.contains("has expired") == true
        }
    }

    @Test func aClientKeepsAtMostItsCapOfWorkspacesAndLosesItsLeastRecentlyUsedIdleOne() async throws {
        let config = try RLMConfig(variables: LayeredVariables(layers: []))
        let store = WorkspaceStore(handles: WorkspaceHandles(secret: nil), provider: SandboxProvider(config: config), idleLimit: .seconds(900),
                                   maxPerOwner: 2)
        let oldest = await store.create(owner: "a")
        let busy = await store.createForCall(owner: "a")  // leased: never closed under its call
        let other = await store.create(owner: "b")
        let newest = await store.create(owner: "a")
        #expect(await store.count == 3)
        await #expect { try await store.lease(handle: oldest.handle, owner: "a") } throws: { error in
            (error as? ToolError)?.message.contains("expired") == true
        }
        #expect(try await store.lease(handle: busy.handle, owner: "a") === busy)
        #expect(try await store.lease(handle: newest.handle, owner: "a") === newest)
        #expect(try await store.lease(handle: other.handle, owner: "b") === other)
    }

    @Test func aWorkspaceMadeForOneCallExpiresSoonUnlessItsHandleComesBack() async throws {
        let config = try RLMConfig(variables: LayeredVariables(layers: []))
        let store = WorkspaceStore(handles: WorkspaceHandles(secret: nil), provider: SandboxProvider(config: config), idleLimit: .seconds(900),
                                   provisionalIdle: .milliseconds(50))
        let forgotten = await store.createForCall(owner: "")
        let reused = await store.createForCall(owner: "")
        await store.release(forgotten)
        await store.release(reused)
        await store.release(try await store.lease(handle: reused.handle, owner: ""))  // the client came back with it
        try await Task.sleep(for: .milliseconds(120))
        await store.expireIdle()
        #expect(await store.count == 1)
        #expect(try await store.lease(handle: reused.handle, owner: "") === reused)
    }

    @Test func aReplicaThatAdoptsServesAnotherReplicasHandle() async throws {
        let config = try RLMConfig(variables: LayeredVariables(layers: []))
        let key = "shared-secret-shared-secret-shared-secret"
        let first = WorkspaceStore(handles: WorkspaceHandles(secret: key), provider: SandboxProvider(config: config), idleLimit: .seconds(60))
        let second = WorkspaceStore(handles: WorkspaceHandles(secret: key), provider: SandboxProvider(config: config), idleLimit: .seconds(60),
                                    adoptsUnknownHandles: true)
        let original = await first.create(owner: "o")
        let adopted = try await second.lease(handle: original.handle, owner: "o")
        #expect(adopted.handle == original.handle && adopted.id == original.id && !adopted.id.isEmpty)
        #expect(try await second.lease(handle: original.handle, owner: "o") === adopted)
        await #expect(throws: ToolError.self) { try await second.lease(handle: original.handle, owner: "someone else") }
        // A store that does not adopt says the workspace is not here.
        await #expect { try await WorkspaceStore(handles: WorkspaceHandles(secret: key), provider: SandboxProvider(config: config),
                                                 idleLimit: .seconds(60)).lease(handle: original.handle, owner: "o") } throws: { error in
            (error as? ToolError)?.message.contains("no longer exists") == true
        }
    }
}
