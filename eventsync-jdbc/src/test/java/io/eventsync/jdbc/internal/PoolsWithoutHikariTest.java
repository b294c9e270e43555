package io.eventsync.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * HikariCP is optional: an application on another pool (or none) has no HikariCP classes. Loads
 * {@link Pools} and H2 in a class loader whose class path is this test's without the HikariCP jar, and
 * runs every entry point on a plain H2 data source: each gives the generic answer instead of failing
 * with {@code NoClassDefFoundError}.
 */
class PoolsWithoutHikariTest {
    @Test
    void everyEntryPointAnswersWithoutHikariOnTheClassPath() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!new File(entry).getName().toLowerCase().startsWith("hikaricp")) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        try (URLClassLoader noHikari = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            assertThat(noHikari.getResource("com/zaxxer/hikari/HikariDataSource.class")).isNull();
            Class<?> pools = Class.forName(Pools.class.getName(), true, noHikari);
            Class<?> h2 = Class.forName("org.h2.jdbcx.JdbcDataSource", true, noHikari);
            DataSource dataSource = (DataSource) h2.getConstructor().newInstance();
            h2.getMethod("setURL", String.class).invoke(dataSource, "jdbc:h2:mem:pools_without_hikari");

            Method jdbcUrl = pools.getMethod("jdbcUrl", DataSource.class);
            Method target = pools.getMethod("target", DataSource.class);
            Method evict = pools.getMethod("evict", DataSource.class, Connection.class);
            assertThat(jdbcUrl.invoke(null, dataSource)).isEqualTo(Optional.empty());
            assertThat(target.invoke(null, dataSource)).isEqualTo(Optional.empty());
            try (Connection c = dataSource.getConnection()) {
                assertThat(evict.invoke(null, dataSource, c)).isEqualTo(false);
            }
            // The URL in log lines falls back to the data source's class name.
            Class<?> jdbc = Class.forName(Jdbc.class.getName(), true, noHikari);
            assertThat(jdbc.getMethod("urlOf", DataSource.class).invoke(null, dataSource)).isEqualTo("JdbcDataSource");
        }
    }
}
