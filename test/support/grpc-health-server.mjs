// A small gRPC health server (grpc.health.v1.Health/Check) for probe tests, run as a pod's command:
//   node grpc-health-server.mjs PORT
// Answers SERVING for the service "" and "app", NOT_SERVING for "sick", NOT_FOUND for any other.
// The messages are encoded by hand (one field each), as shared/agent/grpc-probe.ts does.
import { Buffer } from 'node:buffer';
import grpc from '@grpc/grpc-js';

const port = process.argv[2];
const status = { '': 1, app: 1, sick: 2 };
// An object, not the bare name: grpc-js takes a falsy request ("" for the whole server) for no request.
const readRequest = (buf) => ({
  service: buf.length >= 2 && buf[0] === 0x0a ? buf.subarray(2, 2 + buf[1]).toString('utf8') : '',
});
const server = new grpc.Server();
server.addService(
  {
    Check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: (v) => v,
      requestDeserialize: readRequest,
      responseSerialize: (s) => Buffer.from([0x08, s]),
      responseDeserialize: (b) => b,
    },
  },
  {
    Check: (call, callback) => {
      const s = status[call.request.service];
      if (s === undefined)
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      else callback(null, s);
    },
  },
);
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => {
  if (e) throw e;
  console.log(`grpc health on ${port}`);
});
