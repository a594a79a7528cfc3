import ArgumentParser
import Foundation
import History
import Logging
import RLMConfig
import RLMEngine

/// What `serve` and `run` need from the history settings: the recorder for the engine and the price table.
struct HistorySetup {
    let recorder: HistoryRecorder?
    let prices: PriceTable

    var runRecorder: any RunRecorder { recorder ?? NoRunRecorder() }

    /// A bad price file stops start-up (the user asked for it); a history that cannot be opened is logged and skipped,
    /// so a read-only home never keeps the server from serving.
    static func open(config: RLMConfig, logger: Logger) async throws -> HistorySetup {
        await openStore(config: config, logger: logger, prices: try loadPrices(config: config))
    }

    /// The price table: the defaults, or `RLM_PRICES_FILE`, whose errors stop start-up.
    static func loadPrices(config: RLMConfig) throws -> PriceTable {
        guard let file = config.pricesFile else { return PriceTable.defaults }
        do {
            return try PriceTable.loading(file: file)
        } catch {
            FileHandle.standardError.write(Data("rlm-mcp: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Opens the history store (never fails: a store that cannot be opened is logged and skipped).
    static func openStore(config: RLMConfig, logger: Logger, prices: PriceTable) async -> HistorySetup {
        guard config.historyEnabled else { return HistorySetup(recorder: nil, prices: prices) }
        do {
            let history = try await HistoryStores.open(HistorySettings(config: config), logger: logger)
            let recorder = HistoryRecorder(history: history) { problem in logger.warning("\(problem)") }
            return HistorySetup(recorder: recorder, prices: prices)
        } catch {
            logger.warning("runs are not recorded: \(error)")
            return HistorySetup(recorder: nil, prices: prices)
        }
    }

    /// Writes what is still queued; called when the process ends normally.
    func close() async {
        await recorder?.close()
        await recorder?.history.shutdown()
    }
}
