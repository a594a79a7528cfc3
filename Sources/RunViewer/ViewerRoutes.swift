import Foundation
import History
import HTTPTypes
import Hummingbird

/// The viewer's GET routes; none of them changes anything (logging in and out are POSTs, in the access middleware).
struct ViewerRoutes: Sendable {
    let viewer: RunViewer

    /// `group` is the `/runs` route group, already behind the access guard.
    func register<Context: RequestContext>(on group: RouterGroup<Context>) {
        group.get("") { request, _ in try await list(request) }
        group.get("static/{file}") { _, context in
            let name = context.parameters.get("file") ?? ""
            guard let data = ViewerTemplates.staticFile(name) else { return ViewerResponse.text("not found", status: .notFound) }
            let type = name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8"
            return Response(status: .ok, headers: ViewerResponse.secured([.contentType: type, .cacheControl: "max-age=300"]),
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        group.get("{id}") { request, context in try await run(context.parameters.get("id") ?? "", request: request) }
        group.get("{id}/events") { request, context in
            let after = request.uri.queryParameters.get("after").flatMap { Int($0) } ?? 0
            return try await LiveRunEvents(viewer: viewer).response(runID: context.parameters.get("id") ?? "", after: after)
        }
    }

    private func loggedIn(_ request: Request) -> Bool {
        viewer.session?.accepts(cookieHeader: request.headers[.cookie]) ?? false
    }

    func list(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        func field(_ name: String) -> String? {
            query.get(name).flatMap { $0.isEmpty ? nil : $0 }
        }
        let status = field("status").flatMap { ViewerFormat.statuses.contains($0) ? $0 : nil }
        let tool = field("tool").flatMap { ViewerFormat.tools.contains($0) ? $0 : nil }
        let since = field("since").flatMap(Self.day), until = field("until").flatMap(Self.day).map { $0.addingTimeInterval(86_400) }
        let limit = field("limit").flatMap(Int.init).map { min(max($0, 1), 1000) } ?? 200
        var page = ListPage(
            runs: [], statuses: ViewerFormat.statuses.map { .init(value: $0, selected: $0 == status) },
            tools: ViewerFormat.tools.map { .init(value: $0, selected: $0 == tool) },
            since: field("since") ?? "", until: field("until") ?? "", query: field("q") ?? "", problem: nil, loggedIn: loggedIn(request)
        )
        do {
            let runs = try await viewer.store.get().list(RunFilter(limit: limit, status: status, tool: tool, since: since, until: until, search: field("q")))
            page.runs = runs.map(ViewerFormat.row)
        } catch {
            page.problem = "The run history cannot be read: \(error)"
        }
        return ViewerResponse.html(viewer.templates.render(page, as: "list"))
    }

    func run(_ runID: String, request: Request) async throws -> Response {
        do {
            let detail = try await viewer.store.get().detail(runID)
            return ViewerResponse.html(viewer.templates.render(ViewerFormat.page(detail, prices: viewer.prices, loggedIn: loggedIn(request)), as: "run"))
        } catch let error as HistoryError {
            if case .runNotFound = error { return ViewerResponse.text("\(error)", status: .notFound) }
            return ViewerResponse.text("\(error)", status: .serviceUnavailable)
        }
    }

    /// `2026-11-30` as the start of that day in UTC.
    static func day(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.date(from: text)
    }
}
