// Preloaded into serverless-offline by `npm start` (node --import). Its HTTP API emulation counts only
// octet-stream and multipart bodies as binary and decodes every other body as UTF-8, which corrupts
// the protobuf bodies kubectl's typed clients send (`kubectl create deployment`, …), and its web
// framework answers a malformed Content-Type with its own 400 before the API sees the request. API
// Gateway does neither; the hook below makes serverless-offline behave the same.
import { register } from 'node:module';

register('./offline-binary-bodies-hook.mjs', import.meta.url);
