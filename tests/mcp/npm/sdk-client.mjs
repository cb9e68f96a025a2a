// The official TypeScript SDK's client (@modelcontextprotocol/sdk, npm)
// against `tactus mcp serve`: tests/mcp/serve.sh. Prints one JSON line of
// what it saw; the SDK itself validates the structuredContent of a call
// against the tool's outputSchema (and throws when it does not fit).
//   node sdk-client.mjs stdio TACTUS STORE FILE...
//   node sdk-client.mjs http URL
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, ...rest] = process.argv.slice(2);
const transport = mode === "stdio"
    ? new StdioClientTransport({
        command: rest[0],
        args: ["mcp", "serve", "--no-sandbox", "--store", rest[1], ...rest.slice(2)],
        env: process.env,
        stderr: "ignore",
    })
    : new StreamableHTTPClientTransport(new URL(rest[0]));
const client = new Client({ name: "sdk-test", version: "1.0.0" });
await client.connect(transport);
const tools = await client.listTools();
const greet = await client.callTool({ name: "greet", arguments: { name: "Grace", times: 1 } });
const wait = await client.callTool({ name: "deploy", arguments: { service: "web" } });
const bad = await client.callTool({ name: "greet", arguments: {} });
console.log(JSON.stringify({
    server: client.getServerVersion(),
    protocol: transport.protocolVersion ?? null,
    tools: tools.tools.map((t) => t.name).sort(),
    greet: greet.structuredContent,
    waiting: wait._meta["tactus/status"],
    bad: bad.isError,
}));
await client.close();
