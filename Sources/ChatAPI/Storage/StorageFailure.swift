@preconcurrency import AsyncKit
import HTTPTypes
import NIOCore
import NIOPosix
import PostgresNIO
import SQLiteNIO

/// The database failures a client should be told about plainly, rather than as a bare 500:
/// the disk under SQLite is full, or PostgreSQL cannot be reached. In both cases nothing was
/// written (the transaction failed before COMMIT returned), so the client may retry as is; with a
/// `clientMsgId` a retried send can never be stored twice.
public enum StorageFailure {
    /// 507: SQLite could not grow its file or its write-ahead log (SQLITE_FULL, or a write that
    /// failed with ENOSPC). Reads keep working; sends work again once space returns.
    public static let storageFull = APIError(
        HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), code: "storage_full",
        message: "The server's disk is full; nothing was saved. Try again once an administrator has freed space.")

    /// 503: no connection to PostgreSQL (it is down, restarting, or the pool could not get a
    /// connection in time), or more writes waiting for SQLite than it keeps up with
    /// (`CommitGroup.Overloaded`). `/readyz` answers 503 while the database is away.
    public static let databaseUnavailable = APIError(
        .serviceUnavailable, code: "unavailable",
        message: "The database is unreachable; nothing was saved. Try again shortly.", retryAfter: 5)

    /// The client-facing error for `error`, or nil when it is not one of these (a defect: 500).
    public static func apiError(for error: any Error) -> APIError? {
        switch error {
        case let error as SQLiteError:
            switch error.reason {
            case .full, .ioErrorFailedWrite, .ioErrorFailedSync, .ioErrorFailedTruncate, .ioErrorFailedSharedMemSize,
                 .ioErrorFailedSharedMemMap:
                return storageFull
            default:
                return nil
            }
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown:
                return databaseUnavailable
            default:
                // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now: the
                // server is going down or still starting up.
                if let state = error.serverInfo?[.sqlState], state.hasPrefix("57P") { return databaseUnavailable }
                return nil
            }
        case is DatabaseConnectionLost, is CommitGroup.Overloaded, is ConnectionPoolTimeoutError, is NIOConnectionError, is ChannelError, is ConnectionPoolError:
            return databaseUnavailable
        default:
            return nil
        }
    }
}
