import Foundation
import History
import Hummingbird
import Logging
import RLMConfig
import RLMEngine

/// The run history in a browser: `/runs` (filterable list), `/runs/<id>` (the trajectory, live over server-sent events
/// while the run is in flight), and a login form when `MCP_AUTH_TOKEN` is set. Mounted on the MCP HTTP server behind
/// its access guard, or served alone by `rlm-mcp runs serve`.
public struct RunViewer: Sendable {
    let store: StoreHolder
    let templates: ViewerTemplates
    let prices: PriceTable
    let session: ViewerSession?

    public init(store: @escaping @Sendable () async throws -> any RunStore, token: Secret?, prices: PriceTable = .defaults) throws(ViewerError) {
        self.store = StoreHolder(open: store)
        templates = try ViewerTemplates()
        self.prices = prices
        session = token.map(ViewerSession.init)
    }

    /// The viewer over `store`, or the history `config` names (opened on the first request), with the token and price file.
    public init(config: RLMConfig, store: (@Sendable () async throws -> any RunStore)? = nil) throws(ViewerError) {
        let settings = HistorySettings(config: config)
        try self.init(store: store ?? { try await HistoryStores.open(settings) }, token: config.authToken,
                      prices: config.pricesFile.flatMap { try? PriceTable.loading(file: $0) } ?? .defaults)
    }

    /// Adds the login middleware to `router` and the /runs routes behind `accessGuard`. Call it before the router's
    /// own guard is added: Hummingbird applies a middleware only to routes added after it, so the login form stays
    /// reachable while every page sits behind the guard.
    public func mount<Context: RequestContext>(on router: Router<Context>,
                                               guardedBy accessGuard: any MiddlewareProtocol<Request, Response, Context>) {
        router.add(middleware: ViewerAccessMiddleware<Context>(session: session, templates: templates))
        ViewerRoutes(viewer: self).register(on: router.group("/runs").add(middleware: accessGuard))
    }

    /// Mounts the viewer on an MCP server's router when the history is on; a viewer that cannot load is logged and left out.
    /// `history` is the server's own store (the one its recorder writes), so the process keeps one pool or connection set.
    public static func mount<Context: RequestContext>(on router: Router<Context>, config: RLMConfig, history: HistoryHandle? = nil, logger: Logger,
                                                      guardedBy accessGuard: any MiddlewareProtocol<Request, Response, Context>) {
        guard config.historyEnabled else { return }
        do {
            var shared: (@Sendable () async throws -> any RunStore)?
            if let history { shared = { @Sendable () async throws -> any RunStore in try await history.store(waitingAtMost: HistoryHandle.patience) } }
            try RunViewer(config: config, store: shared).mount(on: router, guardedBy: accessGuard)
        } catch {
            logger.warning("the /runs viewer is off: \(error)")
        }
    }
}

/// Opens the store on first use and keeps it, so mounting never blocks server start-up on a database.
actor StoreHolder {
    private let open: @Sendable () async throws -> any RunStore
    private var store: (any RunStore)?

    init(open: @escaping @Sendable () async throws -> any RunStore) {
        self.open = open
    }

    func get() async throws -> any RunStore {
        if let store { return store }
        let opened = try await open()
        store = opened
        return opened
    }
}
