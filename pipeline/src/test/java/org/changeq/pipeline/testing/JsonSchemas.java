package org.changeq.pipeline.testing;

import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/** The published JSON schemas under {@code docs/json/}, which the README promises programs can rely on. */
public final class JsonSchemas {

    /** Surefire runs a module's tests in the module's directory, which it names in {@code basedir}. */
    private static final Path SCHEMAS = Path.of(System.getProperty("basedir"), "..", "docs", "json").normalize();

    private JsonSchemas() {
    }

    /** The schema {@code name}; the validator reads it and the files it refers to from docs/json/, nothing else. */
    public static Schema schema(String name) {
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12, registry -> registry.schemas(iri -> {
            try {
                return iri.startsWith(SCHEMAS.toUri().toString()) ? Files.readString(Path.of(URI.create(iri))) : null;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        })).getSchema(SchemaLocation.of(SCHEMAS.resolve(name).toUri().toString()));
    }
}
