import Foundation
import History
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RLMConfig
@testable import RLMEngine
@testable import RunViewer
import Testing

/// The viewer's pages over a real SQLite history: untrusted text stays text, every page carries the CSP, and the
/// login form sets the session cookie only for the right token.
@Suite struct RunViewerTests {
    static let payload = #"<script>window.__pwned=1</script><img src=x onerror="alert(1)"><a href="javascript:alert(2)">x</a>"#

    /// A guard that lets everything through: these tests are about the pages, the access rules have their own.
    struct OpenDoor<Context: RequestContext>: RouterMiddleware {
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            try await next(request, context)
        }
    }

    func application(_ folder: TemporaryFolder, token: Secret? = nil) async throws -> some ApplicationProtocol {
        let history = try RunHistory(settings: HistorySettings(directory: folder.path))
        let models = RunModels(root: "openai/gpt-4o", sub: "openai/gpt-4o-mini")
        let block = CodeRun(code: "print('\(Self.payload)')", stdout: Self.payload, stderr: "", error: nil, submitted: false, truncated: false,
                              durationMS: 1, subCalls: [])
        _ = await history.write([
            .started(RunStart(runID: "run_hostile", origin: RunOrigin(), task: "task " + Self.payload, models: models, limits: .init(),
                              context: .text(Self.payload), startedAt: Date())),
            .step(runID: "run_hostile", Step(iteration: 1, reply: "reply " + Self.payload, model: "openai/gpt-4o", inputTokens: 10,
                                             outputTokens: 5, latencyMS: 3, blocks: [block], feedback: nil, durationMS: 4)),
        ])
        let viewer = try RunViewer(store: { history }, token: token)
        let router = Router(context: BasicRequestContext.self)
        viewer.mount(on: router, guardedBy: OpenDoor<BasicRequestContext>())
        return Application(router: router)
    }

    @Test func untrustedTextIsEscapedEverywhereAndThePageIsLockedDown() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try await application(folder).test(.router) { client in
            for uri in ["/runs", "/runs/run_hostile"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    let body = String(buffer: response.body)
                    #expect(!body.contains("<script>window"))
                    #expect(!body.contains("<img src=x"))
                    #expect(!body.contains("href=\"javascript:"))
                    #expect(body.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"))
                    #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
                    #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("'unsafe-inline'") == false)
                }
            }
            try await client.execute(uri: "/runs/run_missing", method: .get) { #expect($0.status == .notFound) }
            // Filters by date, tool, status and task text narrow the list.
            for (query, shown) in [("since=2000-01-01", true), ("since=2999-01-01", false), ("until=2000-01-01", false),
                                   ("tool=rlm_execute", true), ("tool=rlm_query", false), ("status=running", true),
                                   ("status=error", false), ("q=__PWNED", true), ("q=absent", false)] {
                try await client.execute(uri: "/runs?" + query, method: .get) { response in
                    #expect(String(buffer: response.body).contains("href=\"/runs/run_hostile\"") == shown, "\(query)")
                }
            }
            try await client.execute(uri: "/runs/static/viewer.js", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/runs/static/..%2F..%2FPackage.swift", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/runs/static/..%2FTemplates%2Flist.css", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test func theTemplatesNeverWriteAValueUnescaped() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/RunViewer/Templates")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            #expect(!text.contains("{{{") && !text.contains("{{&"), "\(name) writes a value unescaped")
        }
    }

    @Test func loginSetsAnHttpOnlyStrictCookieForTheRightTokenOnly() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let token = Secret("viewer-token-0123456789")
        try await application(folder, token: token).test(.router) { client in
            try await client.execute(uri: "/runs", method: .get) { response in
                #expect(response.status == .seeOther && response.headers[.location] == "/runs/login")
            }
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            try await client.execute(uri: "/runs/login", method: .post, headers: form, body: ByteBuffer(string: "token=wrong")) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.setCookie] == nil)
            }
            var foreign = form
            foreign[.origin] = "http://evil.example"
            try await client.execute(uri: "/runs/login", method: .post, headers: foreign, body: ByteBuffer(string: "token=\(token.exposedValue)")) {
                #expect($0.status == .forbidden)
            }
            let cookie = try await client.execute(uri: "/runs/login", method: .post, headers: form,
                                                  body: ByteBuffer(string: "token=\(token.exposedValue)")) { response in
                #expect(response.status == .seeOther)
                let cookie = try #require(response.headers[.setCookie])
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains(token.exposedValue))
                return String(cookie.prefix { $0 != ";" })
            }
            try await client.execute(uri: "/runs", method: .get, headers: [.cookie: cookie]) { #expect($0.status == .ok) }
            try await client.execute(uri: "/runs", method: .get, headers: [.cookie: "rlm_viewer=forged"]) { #expect($0.status == .seeOther) }
            // Logging out changes state: GET does nothing.
            try await client.execute(uri: "/runs/logout", method: .get, headers: [.cookie: cookie]) { #expect($0.headers[.setCookie] == nil) }
        }
    }
}
