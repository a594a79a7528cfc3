import RLMConfig
import Testing
@testable import LanguageModels

/// The provider table: which provider a model id selects, and the readiness checks the configuration derives from it.
struct ModelProvidersTests {
    private func config(_ values: [String: String]) throws -> RLMConfig {
        try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: values)]))
    }

    @Test func idsRouteByPrefixAndBareNamesGoToTheOpenAICompatibleEndpoint() {
        let cases: [(id: String, provider: String, model: String)] = [
            ("anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
            ("openai/gpt-4o", "openai", "gpt-4o"),
            ("llama3.1:8b", "openai", "llama3.1:8b"),
            ("meta-llama/Llama-3-70b", "openai", "meta-llama/Llama-3-70b"),
        ]
        for (id, provider, model) in cases {
            let route = ModelProviders.route(id)
            #expect(route.provider.name == provider, "\(id)")
            #expect(route.model == model, "\(id)")
        }
    }

    @Test func llmReadinessFollowsTheRootModelsProvider() throws {
        #expect(try config([:]).llmConfigured == false)
        #expect(try config(["OPENAI_API_KEY": "k"]).llmConfigured)
        #expect(try config(["OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"]).llmConfigured)
        #expect(try config(["RLM_MODEL": "anthropic/claude-sonnet-4-5", "OPENAI_API_KEY": "k"]).llmConfigured == false)
        #expect(try config(["RLM_MODEL": "anthropic/claude-sonnet-4-5", "ANTHROPIC_API_KEY": "k"]).llmConfigured)
        #expect(try config([:]).llmSetupHint?.contains("OPENAI_API_KEY") == true)
        #expect(try config(["OPENAI_API_KEY": "k"]).llmSetupHint == nil)
    }

    @Test func theHintNamesTheVariableThatChoseTheModel() throws {
        let hint = try config(["OPENAI_API_KEY": "k"]).setupHint(forModel: "anthropic/claude-haiku-4-5", setBy: "RLM_SUBTASK_MODEL")
        #expect(hint == "RLM_SUBTASK_MODEL is anthropic/claude-haiku-4-5: set ANTHROPIC_API_KEY, or choose an OpenAI-compatible model with RLM_SUBTASK_MODEL.")
    }
}
