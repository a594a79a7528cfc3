import Foundation
import NIOConcurrencyHelpers
import Sandboxes

/// A worker running as an async command of a toolbox session: frames go in as stdin (`…/input`, one request each,
/// strictly in order) and come back on the command's log stream. Killing it deletes the session, which kills the
/// process in the sandbox.
final class DaytonaWorkerTransport: WorkerTransport {
    private struct State {
        var finished = false
        var delivered = 0
        var tasks: [Task<Void, Never>] = []
    }

    let client: DaytonaClient
    let toolbox: String
    let session: String
    let command: String
    private let outgoing: AsyncStream<Data>.Continuation
    private let frames: AsyncStream<WorkerFrame>.Continuation
    private let state = NIOLockedValueBox(State())

    /// Creates the session, starts `commandLine` in it and begins following its output.
    static func start(client: DaytonaClient, toolbox: String, session: String, commandLine: String) async throws -> StartedWorker<DaytonaWorkerTransport> {
        try await client.createSession(toolbox: toolbox, id: session)
        let command: String
        do {
            command = try await client.startCommand(toolbox: toolbox, session: session, command: commandLine)
        } catch {
            try? await client.deleteSession(toolbox: toolbox, id: session)
            throw error
        }
        let (frameStream, frames) = AsyncStream<WorkerFrame>.makeStream()
        let (lines, outgoing) = AsyncStream<Data>.makeStream()
        let transport = DaytonaWorkerTransport(client: client, toolbox: toolbox, session: session, command: command,
                                               outgoing: outgoing, frames: frames)
        transport.begin(lines: lines)
        return StartedWorker(transport: transport, frames: frameStream)
    }

    private init(client: DaytonaClient, toolbox: String, session: String, command: String,
                 outgoing: AsyncStream<Data>.Continuation, frames: AsyncStream<WorkerFrame>.Continuation) {
        self.client = client
        self.toolbox = toolbox
        self.session = session
        self.command = command
        self.outgoing = outgoing
        self.frames = frames
    }

    private func begin(lines: AsyncStream<Data>) {
        let follower = CommandLogFollower(client: client, toolbox: toolbox, session: session, command: command)
        let frames = frames
        let reader = Task { [weak self] in
            let decoder = NIOLockedValueBox(FrameDecoder())
            let refused = NIOLockedValueBox(false)
            let ended = await follower.run { [weak self] data in
                let decoded = decoder.withLockedValue { decoder in
                    Result { () throws(FrameDecoder.FrameTooLarge) in try decoder.append(data) }
                }
                switch decoded {
                case let .success(decoded):
                    decoded.forEach { frames.yield($0) }
                case let .failure(error):
                    // Reported once; stopping the transport ends the log stream.
                    let first = refused.withLockedValue { refused in
                        defer { refused = true }
                        return !refused
                    }
                    if first {
                        self?.finish(WorkerExit(.stoppedByHost, error.description))
                        self?.kill()
                    }
                }
            }
            self?.finish(WorkerExit(.exited, ended))
            self?.kill()  // deletes the session the worker ran in
        }
        let writer = Task { [weak self, client, toolbox, session, command] in
            for await line in lines {
                do {
                    try await client.sendInput(toolbox: toolbox, session: session, command: command, data: String(decoding: line, as: UTF8.self))
                    self?.state.withLockedValue { $0.delivered += 1 }
                } catch {
                    // Code sent to a worker that never received a frame never ran: the caller may send it elsewhere.
                    let first = self?.state.withLockedValue { $0.delivered == 0 } ?? false
                    self?.finish(WorkerExit(first ? .neverReceivedAFrame : .exited, "a frame could not be delivered: \(error)"))
                    self?.kill()
                    return
                }
            }
        }
        state.withLockedValue { $0.tasks = [reader, writer] }
    }

    func send(_ line: Data) {
        outgoing.yield(line)
    }

    func kill() {
        let tasks = state.withLockedValue { state -> [Task<Void, Never>] in
            defer { state.tasks = [] }
            return state.tasks
        }
        finish(WorkerExit(.stoppedByHost, "stopped by the host"))
        guard !tasks.isEmpty else { return }
        tasks.forEach { $0.cancel() }
        outgoing.finish()
        let client = client, toolbox = toolbox, session = session
        Task { try? await client.deleteSession(toolbox: toolbox, id: session) }
    }

    /// Ends the frame stream once, with the reason the worker is gone.
    private func finish(_ exit: WorkerExit) {
        let first = state.withLockedValue { state -> Bool in
            defer { state.finished = true }
            return !state.finished
        }
        guard first else { return }
        frames.yield(.exited(exit))
        frames.finish()
    }
}
