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

    /// The price table: the defaults, or `RLM_PRICES_FILE`, whose errors stop start-up.
    private static func loadPrices(config: RLMConfig) throws -> PriceTable {
        guard let file = config.pricesFile else { return PriceTable.defaults }
        do {
            return try PriceTable.loading(file: file)
        } catch {
            FileHandle.standardError.write(Data("rlm-mcp: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Starts opening the history store in the background and returns at once: start-up never waits for the disk or
    /// the database. A bad price file stops start-up (the user asked for it); a store that cannot be opened is logged
    /// (and shown by `rlm_status`), so a read-only home never keeps the server from serving.
    static func open(config: RLMConfig, logger: Logger) throws -> HistorySetup {
        let prices = try loadPrices(config: config)
        guard config.historyEnabled else { return HistorySetup(recorder: nil, prices: prices) }
        let handle = HistoryHandle(settings: HistorySettings(config: config), logger: logger) { error in
            logger.warning("runs are not recorded: \(error)")
        }
        return HistorySetup(recorder: HistoryRecorder(handle: handle) { problem in logger.warning("\(problem)") }, prices: prices)
    }

    /// Writes what is still queued; called when the process ends normally.
    func close() async {
        guard let recorder else { return }
        // An open still in progress gets a moment to finish, so the runs queued meanwhile are written; then it is
        // abandoned rather than waited on for as long as an unreachable database takes to give up.
        _ = try? await recorder.handle.store(waitingAtMost: HistoryHandle.patience)
        recorder.handle.abandonOpen()
        await recorder.close()
        await recorder.handle.shutdown()
    }
}
