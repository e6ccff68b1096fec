"""A WebSocket client for tests: frames kept until a test asks for them by type."""
import asyncio
import json

import websockets


class Client:
    def __init__(self, socket):
        self.socket, self.frames, self.reader = socket, [], None

    @classmethod
    async def connect(cls, url, token):
        socket = await websockets.connect(url, max_size=2 ** 20)
        client = cls(socket)
        await client.send("auth", {"token": token}, id="auth")
        reply = await client.next("auth.success")
        assert reply["id"] == "auth"
        return client

    async def send(self, type_, data=None, id=None):
        frame = {"type": type_, "data": data or {}}
        if id is not None:
            frame["id"] = id
        await self.socket.send(json.dumps(frame))

    async def next(self, type_, timeout=5.0, where=lambda frame: True):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for index, frame in enumerate(self.frames):
                if frame["type"] == type_ and where(frame):
                    return self.frames.pop(index)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {type_} within {timeout}s; have {[f['type'] for f in self.frames]}")
            try:
                text = await asyncio.wait_for(self.socket.recv(), remaining)
            except asyncio.TimeoutError:
                continue
            self.frames.append(json.loads(text))

    async def close(self):
        await self.socket.close()
