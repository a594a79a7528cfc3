import HTTPTypes
import Hummingbird
import NIOCore
import Telemetry

/// `GET /metrics` (Prometheus text) and the middleware that counts every HTTP request by route and status.
enum MetricsEndpoint {
    /// Mounts `GET /metrics`; add it after the access guard so that it asks for the same bearer token as `/mcp`.
    static func mount<Context: RequestContext>(on router: Router<Context>) {
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: MetricsExposition.contentType],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: MetricsExposition.shared.render())))
        }
    }
}

/// Counts each request in `rlm_http_requests_total{route,status}`. The route is the matched pattern (`/mcp`), or
/// `unmatched`, never the raw path, so that a client cannot mint series. Added before the access guard, it counts the
/// requests the guard refuses too.
struct HTTPRequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            RLMMetrics.global.httpRequest(route: Self.route(context), status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            RLMMetrics.global.httpRequest(route: Self.route(context), status: error.status.code)
            throw error
        } catch {
            RLMMetrics.global.httpRequest(route: Self.route(context), status: 500)
            throw error
        }
    }

    private static func route(_ context: Context) -> String {
        guard let path = context.endpointPath, path != "NotFound" else { return "unmatched" }
        return path
    }
}
