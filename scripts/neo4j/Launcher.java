// Starts an embedded Neo4j Community server with Bolt on a free local port, for the test suite.
//
//   java -cp CACHE/classes:CACHE/lib/* Launcher HOME_DIR [PASSWORD] [--config=FILE]
//
// Prints one line "NEO4J READY bolt://127.0.0.1:PORT" once the default database is available.
// Stops on SIGTERM (shutdown hook) and as soon as its standard input closes, so a test run
// that dies without cleaning up leaves no server behind. Authentication is off unless a
// PASSWORD is given: then it is on, and the user "neo4j" has that password.
// LOAD CSV may not read the server's files (dbms.security.allow_csv_import_from_file_urls
// is false); --config=FILE reads further settings from a neo4j.conf-style file.

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

public final class Launcher {
    private static final long PAGE_CACHE_BYTES = 64L * 1024 * 1024;

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        List<String> positional = new ArrayList<>();
        Path config = null;
        for (String arg : args) {
            if (arg.startsWith("--config=")) {
                config = Path.of(arg.substring("--config=".length()));
            } else {
                positional.add(arg);
            }
        }
        if (positional.size() < 1 || positional.size() > 2) {
            System.err.println("usage: Launcher HOME_DIR [PASSWORD] [--config=FILE]");
            System.exit(2);
        }
        Path home = Path.of(positional.get(0)).toAbsolutePath();
        String password = positional.size() == 2 ? positional.get(1) : null;
        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
        if (config != null) {
            builder.loadPropertiesFromFile(config);
        }
        DatabaseManagementService service = builder
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", 0))
                .setConfig(GraphDatabaseSettings.auth_enabled, password != null)
                .setConfig(GraphDatabaseSettings.pagecache_memory, PAGE_CACHE_BYTES)
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                // LOAD CSV from file:/// URLs would read any file the server can read
                .setConfig(GraphDatabaseSettings.allow_file_urls, false)
                // A throwaway test server: skip Bolt's graceful waits (about 10 s at shutdown).
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ZERO)
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ZERO)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(1))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(service::shutdown, "neo4j-shutdown"));

        GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(Duration.ofMinutes(2).toMillis())) {
            System.err.println("Neo4j: the default database did not become available in 2 minutes");
            System.exit(1);
        }
        if (password != null) {
            // the embedded API is not subject to authentication: set the user's password
            service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                    Map.of("password", password));
        }
        HostnamePort bolt = ((GraphDatabaseAPI) db).getDependencyResolver()
                .resolveDependency(ConnectorPortRegister.class)
                .getLocalAddress(ConnectorType.BOLT);
        System.out.println("NEO4J READY bolt://127.0.0.1:" + bolt.getPort());
        System.out.flush();

        waitForStdinToClose(System.in);
        System.exit(0);
    }

    private static void waitForStdinToClose(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // Input is ignored; only its end matters.
            }
        } catch (IOException ignored) {
            // A broken pipe means the parent is gone: stop as well.
        }
    }
}
