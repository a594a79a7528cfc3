/// Prices a `provider/model` id (USD per million tokens) for the cost metric; nil for a model whose price is unknown.
public typealias ModelPricing = @Sendable (_ model: String) -> ModelPrice?

/// What one million input and output tokens of a model cost, in US dollars; coded as a price file writes it,
/// `{"input": 2.5, "output": 10}`.
public struct ModelPrice: Sendable, Equatable, Codable {
    public var input: Double
    public var output: Double

    public init(input: Double, output: Double) {
        self.input = input
        self.output = output
    }

    /// The cost of `usage` at this price.
    public func cost(_ usage: TokenUsage) -> Double {
        (Double(usage.inputTokens) * input + Double(usage.outputTokens) * output) / 1_000_000
    }
}

extension LLMError {
    /// A short, fixed name of the error for the `outcome` metric label (never the message, which holds URLs).
    public var kind: String {
        switch self {
        case .notConfigured: "not_configured"
        case .rejectedCredentials: "rejected_credentials"
        case .modelNotFound: "model_not_found"
        case .requestRejected: "request_rejected"
        case .gaveUp: "gave_up"
        case .malformedResponse: "malformed_response"
        case .cancelled: "cancelled"
        }
    }
}
